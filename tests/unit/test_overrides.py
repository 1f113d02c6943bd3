"""Which refusals a policy lets staff override and how, and whether a request's overrides cover
a decision: pure functions of the policy and the decision, table by table."""

from pathlib import Path

import msgspec
import pytest

from respite.eligibility import PRESETS, Decision, Policy, Reason, decode_policy
from respite.eligibility.overrides import (
    Override,
    OverrideCheck,
    OverrideForm,
    OverrideOption,
    check_overrides,
    override_form,
    override_options,
)
from respite.eligibility.policy import OverrideRules
from respite.eligibility.reasons import CODES, REFUSAL_CODES, reason
from respite.i18n import t

CN = PRESETS["cn-respite"]
SQL = Path(__file__).parents[2] / "sql"

WHEELCHAIR = "needs_capability_missing:wheelchair"
OXYGEN = "needs_capability_missing:oxygen"


def decision(*refused: str) -> Decision:
    """A decision refusing on ``refused``, with a rule that passed among them."""
    reasons: list[Reason] = [
        reason("level_eligible", {"level": 2, "eligible_levels": "1"}, ok=True)
    ]
    reasons += [
        Reason(code=code, ok=False, message=t("reason.no_assessment"), figures={})
        for code in refused
    ]
    return Decision(
        eligible=not refused,
        policy_code=CN.code,
        level=2,
        age_at_check_in=80,
        reasons=reasons,
        periods=[],
    )


def with_rules(**rules: tuple[str, ...]) -> Policy:
    return msgspec.structs.replace(
        CN, overridable=OverrideRules(**{k: frozenset(v) for k, v in rules.items()})
    )


def reason_only(code: str) -> Override:
    return Override(code=code)


def acknowledged(code: str) -> Override:
    return Override(code=code, acknowledged=True)


@pytest.mark.parametrize(
    ("code", "form"),
    [
        ("no_assessment", "with_reason"),
        ("assessment_expired_before_check_in", "with_reason"),
        ("assessment_expires_during_stay", "with_reason"),
        ("quota_exhausted", "with_reason"),
        ("stay_exceeds_consecutive_limit", "with_reason"),
        ("age_below_minimum", "with_reason"),
        ("sex_rule", "with_acknowledgement"),
        (WHEELCHAIR, "with_acknowledgement"),
        ("needs_capability_missing:pressure_care", "with_acknowledgement"),
        ("level_not_eligible", "never"),
        ("check_in_in_past", "never"),
        ("programme_mismatch", "never"),
        ("assessment_after_check_in", "never"),
        ("home_location_missing", "never"),
        ("outside_service_radius", "never"),
    ],
)
def test_the_default_rules_say_how_each_refusal_is_overridden(code: str, form: str) -> None:
    assert override_form(CN.overridable, code) == form


def test_every_preset_follows_the_default_rules() -> None:
    assert {policy.overridable for policy in PRESETS.values()} == {OverrideRules()}


def test_a_code_follows_its_own_entry_before_its_prefix() -> None:
    rules = OverrideRules(
        with_reason=frozenset({"needs_capability_missing:low_bed"}),
        with_acknowledgement=frozenset({"needs_capability_missing"}),
    )
    assert override_form(rules, "needs_capability_missing:low_bed") == "with_reason"
    assert override_form(rules, OXYGEN) == "with_acknowledgement"
    assert (
        override_form(
            OverrideRules(with_reason=frozenset(), with_acknowledgement=frozenset()), OXYGEN
        )
        == "never"
    )


def test_a_stored_document_without_override_rules_decodes_with_the_defaults() -> None:
    """Version 1 of every preset (migration 0003) predates the field: it stays readable, and
    equal to the preset."""
    migration = (SQL / "0003_eligibility.sql").read_text(encoding="utf-8")
    documents = migration.split("$json$")[1::2]
    assert len(documents) == len(PRESETS)
    for text in documents:
        assert "overridable" not in text
        policy = decode_policy(text.encode())
        assert policy.overridable == OverrideRules()
        assert policy == PRESETS[policy.code]


def test_refusal_codes_are_every_code_that_refuses() -> None:
    assert set(REFUSAL_CODES) < set(CODES)
    assert {"level_eligible", "within_quota", "within_service_radius"}.isdisjoint(REFUSAL_CODES)
    assert {"sex_rule", WHEELCHAIR, "no_assessment"} <= set(REFUSAL_CODES)


def test_the_options_list_each_refusal_in_order_with_its_form() -> None:
    refused = decision("no_assessment", "sex_rule", WHEELCHAIR, "level_not_eligible")
    assert override_options(CN, refused) == [
        OverrideOption(code="no_assessment", allowed="with_reason"),
        OverrideOption(code="sex_rule", allowed="with_acknowledgement"),
        OverrideOption(code=WHEELCHAIR, allowed="with_acknowledgement"),
        OverrideOption(code="level_not_eligible", allowed="never"),
    ]
    assert override_options(CN, decision()) == []


def test_a_code_that_refuses_twice_is_listed_once() -> None:
    # A stay across two quota periods may exhaust both.
    twice = decision("quota_exhausted", "quota_exhausted")
    assert override_options(CN, twice) == [
        OverrideOption(code="quota_exhausted", allowed="with_reason")
    ]
    assert check_overrides(CN, twice, []).not_overridden == ("quota_exhausted",)
    assert check_overrides(CN, twice, [reason_only("quota_exhausted")]).covered


def test_a_policy_of_its_own_changes_the_options() -> None:
    strict = with_rules(with_reason=("quota_exhausted",), with_acknowledgement=())
    options = override_options(strict, decision("quota_exhausted", "no_assessment", "sex_rule"))
    allowed: list[OverrideForm] = [option.allowed for option in options]
    assert allowed == ["with_reason", "never", "never"]


MAN_IN_A_FEMALE_BED = ("no_assessment", "sex_rule", WHEELCHAIR)

CHECK_CASES: list[tuple[str, tuple[str, ...], list[Override], OverrideCheck]] = [
    (
        "a reason alone leaves the rules that need an acknowledgement",
        MAN_IN_A_FEMALE_BED,
        [reason_only("no_assessment")],
        OverrideCheck(nothing_to_override=(), not_overridden=("sex_rule", WHEELCHAIR)),
    ),
    (
        "naming them without acknowledging them is not enough",
        MAN_IN_A_FEMALE_BED,
        [reason_only("no_assessment"), reason_only("sex_rule"), reason_only(WHEELCHAIR)],
        OverrideCheck(nothing_to_override=(), not_overridden=("sex_rule", WHEELCHAIR)),
    ),
    (
        "one acknowledgement of two",
        MAN_IN_A_FEMALE_BED,
        [reason_only("no_assessment"), acknowledged("sex_rule"), reason_only(WHEELCHAIR)],
        OverrideCheck(nothing_to_override=(), not_overridden=(WHEELCHAIR,)),
    ),
    (
        "both acknowledged and the reason: covered",
        MAN_IN_A_FEMALE_BED,
        [acknowledged(WHEELCHAIR), reason_only("no_assessment"), acknowledged("sex_rule")],
        OverrideCheck(nothing_to_override=(), not_overridden=()),
    ),
    (
        "the acknowledged rules without the reason-only one",
        MAN_IN_A_FEMALE_BED,
        [acknowledged("sex_rule"), acknowledged(WHEELCHAIR)],
        OverrideCheck(nothing_to_override=(), not_overridden=("no_assessment",)),
    ),
    (
        "an acknowledgement more than a rule needs is accepted",
        ("quota_exhausted",),
        [acknowledged("quota_exhausted")],
        OverrideCheck(nothing_to_override=(), not_overridden=()),
    ),
    (
        "a quota with a reason",
        ("quota_exhausted",),
        [reason_only("quota_exhausted")],
        OverrideCheck(nothing_to_override=(), not_overridden=()),
    ),
    (
        "a rule that did not refuse is nothing to override",
        ("quota_exhausted",),
        [reason_only("quota_exhausted"), acknowledged("sex_rule"), reason_only("no_assessment")],
        OverrideCheck(nothing_to_override=(1, 2), not_overridden=()),
    ),
    (
        "nothing refused: every override is nothing to override",
        (),
        [reason_only("no_assessment")],
        OverrideCheck(nothing_to_override=(0,), not_overridden=()),
    ),
    (
        "a rule never overridable stays refused whatever is sent",
        ("level_not_eligible", "quota_exhausted"),
        [acknowledged("level_not_eligible"), reason_only("quota_exhausted")],
        OverrideCheck(nothing_to_override=(), not_overridden=("level_not_eligible",)),
    ),
    (
        "no overrides: every refusal is left",
        ("age_below_minimum", "sex_rule"),
        [],
        OverrideCheck(nothing_to_override=(), not_overridden=("age_below_minimum", "sex_rule")),
    ),
    (
        "no refusal and no override",
        (),
        [],
        OverrideCheck(nothing_to_override=(), not_overridden=()),
    ),
]


@pytest.mark.parametrize(
    ("refused", "overrides", "expected"),
    [case[1:] for case in CHECK_CASES],
    ids=[case[0] for case in CHECK_CASES],
)
def test_overrides_cover_a_decision_only_in_the_forms_the_policy_allows(
    refused: tuple[str, ...], overrides: list[Override], expected: OverrideCheck
) -> None:
    check = check_overrides(CN, decision(*refused), overrides)
    assert check == expected
    assert check.covered == (expected == OverrideCheck(nothing_to_override=(), not_overridden=()))


def test_a_policy_may_ask_an_acknowledgement_where_the_default_takes_a_reason() -> None:
    careful = with_rules(with_reason=(), with_acknowledgement=("quota_exhausted",))
    refused = decision("quota_exhausted")
    assert check_overrides(careful, refused, [reason_only("quota_exhausted")]).not_overridden == (
        "quota_exhausted",
    )
    assert check_overrides(careful, refused, [acknowledged("quota_exhausted")]).covered


@pytest.mark.parametrize("code", ["snoring", "within_quota", "needs_capability_missing", ""])
def test_an_override_names_a_code_that_refuses(code: str) -> None:
    raw = msgspec.json.encode({"code": code})
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=Override)
