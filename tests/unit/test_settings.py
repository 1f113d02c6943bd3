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
    ],
)
def test_an_invalid_value_names_its_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(SettingsError, match=f"^{variable}: "):
        load_settings(environ)


def test_cross_field_rule() -> None:
    with pytest.raises(SettingsError, match="db_pool_min must not exceed db_pool_max"):
        load_settings({"RESPITE_DB_POOL_MIN": "9", "RESPITE_DB_POOL_MAX": "3"})
