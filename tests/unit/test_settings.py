import pytest

from respite.settings import Settings, SettingsError, load_settings


def test_defaults_run_without_any_variable() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url is None
    assert settings.port == 8000


def test_variables_are_read_and_converted() -> None:
    settings = load_settings(
        {
            "RESPITE_PORT": "9001",
            "RESPITE_LOG_FORMAT": "text",
            "RESPITE_DB_POOL_MAX": "7",
            "OTHER": "x",
        }
    )
    assert (settings.port, settings.log_format, settings.db_pool_max) == (9001, "text", 7)


@pytest.mark.parametrize(
    ("environ", "variable"),
    [
        ({"RESPITE_PORT": "eighty"}, "RESPITE_PORT"),
        ({"RESPITE_PORT": "70000"}, "RESPITE_PORT"),
        ({"RESPITE_LOG_FORMAT": "xml"}, "RESPITE_LOG_FORMAT"),
        ({"RESPITE_REQUEST_TIMEOUT": "-1"}, "RESPITE_REQUEST_TIMEOUT"),
        ({"RESPITE_MAX_BODY_BYTES": "10"}, "RESPITE_MAX_BODY_BYTES"),
        ({"RESPITE_STAFF_RECENT_STAY_DAYS": "-1"}, "RESPITE_STAFF_RECENT_STAY_DAYS"),
        ({"RESPITE_STAFF_RECENT_STAY_DAYS": "3651"}, "RESPITE_STAFF_RECENT_STAY_DAYS"),
    ],
)
def test_an_invalid_value_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        load_settings(environ)


def test_cross_field_rule() -> None:
    with pytest.raises(SettingsError, match="db_pool_min must not exceed db_pool_max"):
        load_settings({"RESPITE_DB_POOL_MIN": "9", "RESPITE_DB_POOL_MAX": "3"})


def test_trusted_proxies_are_a_comma_separated_list_of_addresses_or_networks() -> None:
    settings = load_settings({"RESPITE_TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,::1,"})
    assert settings.trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(SettingsError, match=r"^RESPITE_TRUSTED_PROXIES: 'proxy' is not"):
        load_settings({"RESPITE_TRUSTED_PROXIES": "10.0.0.1, proxy"})


@pytest.mark.parametrize("region", ["XX", "cn", "CHN"])
def test_the_phone_region_is_a_known_region(region: str) -> None:
    assert load_settings({"RESPITE_PHONE_REGION": "JP"}).phone_region == "JP"
    with pytest.raises(SettingsError, match=r"^RESPITE_PHONE_REGION: "):
        load_settings({"RESPITE_PHONE_REGION": region})


def test_retention_defaults_and_variables() -> None:
    settings = load_settings({})
    assert (
        settings.retention_idempotency_days,
        settings.retention_audit_days,
        settings.retention_webhook_attempts_days,
        settings.retention_tokens_days,
        settings.purge_seconds,
        settings.purge_batch,
    ) == (2, 400, 30, 30, 3600.0, 1000)
    chosen = load_settings({"RESPITE_RETENTION_AUDIT_DAYS": "800", "RESPITE_PURGE_SECONDS": "600"})
    assert (chosen.retention_audit_days, chosen.purge_seconds) == (800, 600.0)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RESPITE_RETENTION_IDEMPOTENCY_DAYS", "0"),
        ("RESPITE_RETENTION_IDEMPOTENCY_DAYS", "366"),
        ("RESPITE_RETENTION_AUDIT_DAYS", "-1"),
        ("RESPITE_RETENTION_AUDIT_DAYS", "a year"),
        ("RESPITE_RETENTION_AUDIT_DAYS", "1.5"),
        ("RESPITE_RETENTION_WEBHOOK_ATTEMPTS_DAYS", "0"),
        ("RESPITE_RETENTION_TOKENS_DAYS", "36601"),
        ("RESPITE_PURGE_SECONDS", "0"),
        ("RESPITE_PURGE_SECONDS", "86401"),
        ("RESPITE_PURGE_BATCH", "0"),
        ("RESPITE_PURGE_BATCH", "10001"),
    ],
)
def test_invalid_retention_settings_name_their_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        load_settings({variable: value})


def test_staff_see_an_elder_30_days_after_a_stay_unless_told_otherwise() -> None:
    assert Settings().staff_recent_stay_days == 30
    given = load_settings({"RESPITE_STAFF_RECENT_STAY_DAYS": "0"})
    assert given.staff_recent_stay_days == 0
