-- Eligibility: presets as data, what an assessment was judged under, and duplicate national IDs.

-- The policy presets of DESIGN §5 (respite.eligibility.presets) as version 1 of each code, in
-- force from 2020-01-01, so that every database can decide from its first start. Later changes
-- are published as new versions; a test keeps these rows equal to the presets' version 1.
INSERT INTO policies (code, version, effective_from, document) VALUES
    ('cn-respite', 1, DATE '2020-01-01', $json${
      "code": "cn-respite",
      "name": "CN community respite stay (短期托养)",
      "jurisdiction": "CN",
      "programme": "respite",
      "eligible_levels": [1, 2, 3, 4],
      "min_age": 60,
      "assessment_valid_days": 365,
      "max_consecutive_nights": 30,
      "quota": {"period": "calendar_year", "nights": 60},
      "needs_capabilities": {"dementia": ["dementia_secure"], "wandering": ["dementia_secure"], "oxygen": ["oxygen"], "tube_feeding": ["tube_feeding"], "urinary_catheter": ["catheter_care"], "tracheostomy": ["tracheostomy_suction"], "wheelchair": ["wheelchair"], "bariatric": ["bariatric"], "infectious_isolation": ["isolation"], "fall_risk": ["low_bed"]},
      "stack_raises": false,
      "home": null,
      "extra_nights_with_approval": null,
      "level_scale": {"能力完好 intact (90)": 0, "轻度受损 mildly impaired (66-89)": 1, "中度受损 moderately impaired (46-65)": 2, "重度受损 severely impaired (30-45)": 3, "完全丧失 completely lost (0-29)": 4},
      "notes": "Default policy. GB/T 42195-2022 levels are used as they are; yearly reassessment."
    }$json$::jsonb),
    ('cn-home-bed', 1, DATE '2020-01-01', $json${
      "code": "cn-home-bed",
      "name": "CN home-care bed (家庭养老床位)",
      "jurisdiction": "CN",
      "programme": "home",
      "eligible_levels": [2, 3, 4],
      "min_age": 60,
      "assessment_valid_days": 365,
      "max_consecutive_nights": null,
      "quota": null,
      "needs_capabilities": {"dementia": ["dementia_secure"], "wandering": ["dementia_secure"], "oxygen": ["oxygen"], "tube_feeding": ["tube_feeding"], "urinary_catheter": ["catheter_care"], "tracheostomy": ["tracheostomy_suction"], "wheelchair": ["wheelchair"], "bariatric": ["bariatric"], "infectious_isolation": ["isolation"], "fall_risk": ["low_bed"]},
      "stack_raises": false,
      "home": {"require_within_radius": true, "alternative_min_age_living_alone": 80},
      "extra_nights_with_approval": null,
      "level_scale": {"能力完好 intact (90)": 0, "轻度受损 mildly impaired (66-89)": 1, "中度受损 moderately impaired (46-65)": 2, "重度受损 severely impaired (30-45)": 3, "完全丧失 completely lost (0-29)": 4},
      "notes": "Stays run for contract months, so no consecutive limit and no quota. Age 80 or more and living alone qualifies below level 2, but a valid assessment is still required: the care plan and the bed's capabilities are chosen from it."
    }$json$::jsonb),
    ('jp-short-stay', 1, DATE '2020-01-01', $json${
      "code": "jp-short-stay",
      "name": "JP short-stay care (短期入所生活介護)",
      "jurisdiction": "JP",
      "programme": "respite",
      "eligible_levels": [1, 2, 3, 4],
      "min_age": 40,
      "assessment_valid_days": 1461,
      "max_consecutive_nights": 30,
      "quota": {"period": "half_certification"},
      "needs_capabilities": {"dementia": ["dementia_secure"], "wandering": ["dementia_secure"], "oxygen": ["oxygen"], "tube_feeding": ["tube_feeding"], "urinary_catheter": ["catheter_care"], "tracheostomy": ["tracheostomy_suction"], "wheelchair": ["wheelchair"], "bariatric": ["bariatric"], "infectious_isolation": ["isolation"], "fall_risk": ["low_bed"]},
      "stack_raises": false,
      "home": null,
      "extra_nights_with_approval": null,
      "level_scale": {"非該当 not certified": 0, "要支援1": 1, "要支援2": 1, "要介護1": 2, "要介護2": 2, "要介護3": 3, "要介護4": 4, "要介護5": 4},
      "notes": "要支援1 to 要介護5 are all eligible (要支援 use the preventive variant of the service), so merging pairs of grades into one level loses nothing. Long-term care insurance covers people from 40 (specified diseases) and 65. A certification is valid for at most 48 months; its own valid_until governs. JP counts days of use including arrival and departure days; 30 nights follows DESIGN §5 and is to review."
    }$json$::jsonb),
    ('de-kurzzeitpflege', 1, DATE '2020-01-01', $json${
      "code": "de-kurzzeitpflege",
      "name": "DE Kurzzeitpflege (§ 42 SGB XI)",
      "jurisdiction": "DE",
      "programme": "respite",
      "eligible_levels": [2, 3, 4],
      "min_age": null,
      "assessment_valid_days": 3650,
      "max_consecutive_nights": null,
      "quota": {"period": "calendar_year", "nights": 56},
      "needs_capabilities": {"dementia": ["dementia_secure"], "wandering": ["dementia_secure"], "oxygen": ["oxygen"], "tube_feeding": ["tube_feeding"], "urinary_catheter": ["catheter_care"], "tracheostomy": ["tracheostomy_suction"], "wheelchair": ["wheelchair"], "bariatric": ["bariatric"], "infectious_isolation": ["isolation"], "fall_risk": ["low_bed"]},
      "stack_raises": false,
      "home": null,
      "extra_nights_with_approval": null,
      "level_scale": {"kein Pflegegrad": 0, "Pflegegrad 1": 1, "Pflegegrad 2": 2, "Pflegegrad 3": 3, "Pflegegrad 4": 4, "Pflegegrad 5": 4},
      "notes": "Pflegegrad 2-5 are eligible, so Pflegegrad 1 keeps its own level and 4 and 5 share level 4. 8 weeks = 56 nights per calendar year. A Pflegegrad is normally not time-limited: 3650 days stands for 'until reassessed'. No age limit."
    }$json$::jsonb),
    ('au-residential-respite', 1, DATE '2020-01-01', $json${
      "code": "au-residential-respite",
      "name": "AU residential respite care",
      "jurisdiction": "AU",
      "programme": "respite",
      "eligible_levels": [1, 2, 3, 4],
      "min_age": null,
      "assessment_valid_days": 365,
      "max_consecutive_nights": null,
      "quota": {"period": "financial_year", "nights": 63, "start_month": 7},
      "needs_capabilities": {"dementia": ["dementia_secure"], "wandering": ["dementia_secure"], "oxygen": ["oxygen"], "tube_feeding": ["tube_feeding"], "urinary_catheter": ["catheter_care"], "tracheostomy": ["tracheostomy_suction"], "wheelchair": ["wheelchair"], "bariatric": ["bariatric"], "infectious_isolation": ["isolation"], "fall_risk": ["low_bed"]},
      "stack_raises": false,
      "home": null,
      "extra_nights_with_approval": 21,
      "level_scale": {"not approved for residential respite": 0, "approved for residential respite": 1},
      "notes": "Eligibility is an assessor's approval, yes or no: an approved person is recorded at level 1 or above, so any higher level from a fuller assessment also qualifies. 63 nights per financial year from 1 July, 21 more when the assessor approves an extension. Age is left to the approval (65+, 50+ for First Nations people). The 365-day validity of an approval is an assumption to review."
    }$json$::jsonb)
ON CONFLICT (code, version) DO NOTHING;

-- A stored document always describes its own code.
ALTER TABLE policies ADD CONSTRAINT policies_document_code CHECK (document->>'code' = code);

-- Assessments: an assessor's approval of extra nights (AU respite), and the policy version whose
-- stacking rule computed the level.
ALTER TABLE assessments
    ADD COLUMN extension_approved boolean NOT NULL DEFAULT false,
    ADD COLUMN policy_id bigint REFERENCES policies (id);

-- One national ID per tenant: a family, a hospital or a facility cannot register the same elder
-- twice, even when two requests race. Different tenants may each hold the same person.
CREATE UNIQUE INDEX care_recipients_family_national_id
    ON care_recipients (family_id, national_id_hash)
    WHERE family_id IS NOT NULL AND national_id_hash IS NOT NULL;
CREATE UNIQUE INDEX care_recipients_hospital_national_id
    ON care_recipients (hospital_id, national_id_hash)
    WHERE hospital_id IS NOT NULL AND national_id_hash IS NOT NULL;
CREATE UNIQUE INDEX care_recipients_facility_national_id
    ON care_recipients (facility_id, national_id_hash)
    WHERE facility_id IS NOT NULL AND national_id_hash IS NOT NULL;
