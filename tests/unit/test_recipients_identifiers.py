"""Identifier encryption: AES-GCM bound to its purpose, and the key setting validated."""

import base64
import os

import pytest

from respite.crypto import IdentifierCipher, UnreadableIdentifierError, cipher_for
from respite.settings import Settings, SettingsError, load_settings

KEY = base64.b64encode(bytes(range(32))).decode()


def test_a_value_round_trips_and_is_never_stored_in_clear() -> None:
    cipher = cipher_for(Settings(id_key=KEY))
    sealed = cipher.encrypt("national_id", "11010519491231002X")
    assert b"11010519491231002X" not in sealed
    assert cipher.decrypt("national_id", sealed) == "11010519491231002X"
    # A fresh nonce each time: equal values do not give equal ciphertexts.
    assert cipher.encrypt("national_id", "11010519491231002X") != sealed


def test_a_value_does_not_decrypt_as_another_purpose_or_when_altered() -> None:
    cipher = cipher_for(Settings(id_key=KEY))
    sealed = cipher.encrypt("national_id", "11010519491231002X")
    with pytest.raises(UnreadableIdentifierError):
        cipher.decrypt("emergency_contact_phone", sealed)
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(UnreadableIdentifierError):
        cipher.decrypt("national_id", altered)
    with pytest.raises(UnreadableIdentifierError):
        cipher.decrypt("national_id", b"\x07" + sealed[1:])


def test_another_key_cannot_read_it() -> None:
    sealed = cipher_for(Settings(id_key=KEY)).encrypt("national_id", "X1234")
    other = base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(UnreadableIdentifierError):
        cipher_for(Settings(id_key=other)).decrypt("national_id", sealed)
    # Without RESPITE_ID_KEY the (development) key follows secret_key.
    dev_a = cipher_for(Settings(secret_key="a"))
    with pytest.raises(UnreadableIdentifierError):
        cipher_for(Settings(secret_key="b")).decrypt(
            "national_id", dev_a.encrypt("national_id", "X")
        )


def test_the_key_setting_is_read_from_the_environment() -> None:
    assert load_settings({"RESPITE_ID_KEY": KEY}).id_key == KEY
    assert load_settings({}).id_key is None


@pytest.mark.parametrize(
    "value",
    [
        "short",
        base64.b64encode(bytes(16)).decode(),
        base64.b64encode(bytes(33)).decode(),
        base64.urlsafe_b64encode(b"\xff" * 32).decode(),
        KEY.rstrip("="),
        KEY[:-2] + "B=",
    ],
)
def test_a_bad_key_stops_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match=r"^RESPITE_ID_KEY: ") as caught:
        load_settings({"RESPITE_ID_KEY": value})
    assert value not in str(caught.value)


def test_a_key_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        IdentifierCipher({1: bytes(16)}, current=1)
