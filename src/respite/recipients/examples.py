"""Examples the API reference shows for elders: a daughter registers her mother, who lives in
Changning, Shanghai, and records her assessment. Built from the Structs themselves."""

from __future__ import annotations

from datetime import date

from respite.recipients.model import NewAssessment, NewCareRecipient
from respite.reference import example

__all__ = ["ASSESS", "REGISTER"]


REGISTER = example(
    "Register Wang Guifang, 82, who lives with her family and uses oxygen at night",
    NewCareRecipient(
        name="王桂芳",
        sex="female",
        birth_date=date(1944, 11, 3),
        home_address="上海市长宁区新华路 211 弄 5 号 302 室",
        home_lat=31.2077,
        home_lon=121.4260,
        living_situation="with_family",
        needs=["oxygen", "fall_risk"],
        pressure_injury_stage=0,
        emergency_contact_name="李敏",
        emergency_contact_phone="+86 139 1234 5678",
        national_id="310105194411030027",
    ),
)
ASSESS = example(
    "Scores of a moderately impaired elder (total 58: level 2)",
    NewAssessment(
        self_care=20,
        mobility=9,
        mental=18,
        perception_social=11,
        assessor="张医生",
        organisation="长宁区老年照护统一需求评估中心",
        assessed_on=date(2027, 4, 18),
    ),
)
