"""No silent production secrets: a key of its own for every purpose, identifier keys that name
themselves in what they seal, and a production that refuses the public defaults."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest

from respite.auth.model import identifier_hash
from respite.crypto import IdentifierCipher, UnreadableIdentifierError, cipher_for, key_id_of
from respite.holds.token import PURPOSE as HOLD_PURPOSE
from respite.keys import IDENTIFIER_ENCRYPTION, IDENTIFIER_HASH, derive_key, signing_purpose
from respite.settings import (
    DEV_SECRET_KEY,
    Settings,
    SettingsError,
    load_settings,
    production_refusal,
)
from respite.signing import MAC_BYTES, Signer

SECRET = "a-secret-of-the-suite-long-enough-for-production"
OLD = base64.b64encode(bytes(range(32))).decode()
NEW = base64.b64encode(bytes(range(32, 64))).decode()


def _key(text: str) -> bytes:
    return base64.b64decode(text)


# -- one key per purpose -------------------------------------------------------------------------


def test_every_purpose_has_a_key_of_its_own_and_none_is_the_secret_key() -> None:
    purposes = [
        signing_purpose(HOLD_PURPOSE),
        signing_purpose("page:bookings"),
        signing_purpose("page:care-recipients"),
        IDENTIFIER_HASH,
        IDENTIFIER_ENCRYPTION,
    ]
    keys = [derive_key(SECRET, purpose) for purpose in purposes]
    assert len(set(keys)) == len(keys)
    assert all(len(key) == 32 and key != SECRET.encode() for key in keys)
    assert derive_key(SECRET, IDENTIFIER_HASH) == derive_key(SECRET, IDENTIFIER_HASH)
    assert derive_key("another-secret", IDENTIFIER_HASH) != derive_key(SECRET, IDENTIFIER_HASH)


def test_a_hold_tokens_mac_key_is_not_a_cursors() -> None:
    payload = b'["h",1]'
    token = Signer(SECRET, HOLD_PURPOSE).sign(payload)
    mac = base64.urlsafe_b64decode(token.split(".")[1] + "==")

    def mac_under(key: bytes) -> bytes:
        return hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]

    assert mac == mac_under(derive_key(SECRET, signing_purpose(HOLD_PURPOSE)))
    assert mac != mac_under(derive_key(SECRET, signing_purpose("page:bookings")))
    assert mac != mac_under(SECRET.encode())  # the secret key itself signs nothing
    assert Signer(SECRET, "page:bookings").verify(token) is None


def test_identifier_hashes_are_keyed_by_their_own_key() -> None:
    value = "+8613800138000"
    hashed = identifier_hash(SECRET, value)
    own_key = derive_key(SECRET, IDENTIFIER_HASH)
    assert hashed == hmac.new(own_key, value.encode(), hashlib.sha256).digest()
    assert hashed != hmac.new(SECRET.encode(), value.encode(), hashlib.sha256).digest()


# -- identifier keys by id -----------------------------------------------------------------------


def test_a_sealed_value_names_its_key_and_its_header_cannot_be_edited() -> None:
    cipher = IdentifierCipher({7: _key(NEW)}, current=7)
    sealed = cipher.encrypt("national_id", "11010519491231002X")
    assert key_id_of(sealed) == 7
    assert sealed[:3] == b"\x02\x00\x07"
    other = IdentifierCipher({7: _key(NEW), 8: _key(OLD)}, current=8)
    assert other.decrypt("national_id", sealed) == "11010519491231002X"
    with pytest.raises(UnreadableIdentifierError, match="key 8"):
        IdentifierCipher({7: _key(NEW)}, current=7).decrypt(
            "national_id", b"\x02\x00\x08" + sealed[3:]
        )


def test_a_value_sealed_before_key_ids_is_under_key_1() -> None:
    """The format of before migration 0010: 1 || nonce || ciphertext, purpose as the AAD."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(12)
    legacy = b"\x01" + nonce + AESGCM(_key(OLD)).encrypt(nonce, b"X1234", b"national_id")
    assert key_id_of(legacy) == 1
    ring = cipher_for(Settings(id_key=NEW, id_key_id=2, id_key_previous=OLD))
    assert ring.decrypt("national_id", legacy) == "X1234"
    with pytest.raises(UnreadableIdentifierError, match="key 1"):
        cipher_for(Settings(id_key=NEW, id_key_id=2)).decrypt("national_id", legacy)


def test_during_a_rotation_old_and_new_values_read_and_new_ones_are_sealed_new() -> None:
    before = cipher_for(Settings(id_key=OLD))
    old_value = before.encrypt("emergency_contact_phone", "13800138000")
    during = cipher_for(Settings(id_key=NEW, id_key_id=2, id_key_previous=OLD))
    new_value = during.encrypt("emergency_contact_phone", "13900139000")
    assert (key_id_of(old_value), key_id_of(new_value)) == (1, 2)
    assert during.decrypt("emergency_contact_phone", old_value) == "13800138000"
    assert during.decrypt("emergency_contact_phone", new_value) == "13900139000"
    # The old key alone does not read what the new one sealed, nor can it pose as key 2.
    with pytest.raises(UnreadableIdentifierError):
        before.decrypt("emergency_contact_phone", new_value)
    with pytest.raises(UnreadableIdentifierError):
        IdentifierCipher({2: _key(OLD)}, current=2).decrypt("emergency_contact_phone", new_value)


def test_a_key_check_value_tells_the_same_key_from_another() -> None:
    cipher = cipher_for(Settings(id_key=NEW, id_key_id=2, id_key_previous=OLD))
    assert cipher.key_ids == (2, 1)
    check = cipher.check_value(1)
    assert cipher.opens_check(1, check)
    assert not cipher.opens_check(2, check)
    assert not cipher_for(Settings(id_key=NEW)).opens_check(1, check)


def test_the_key_ring_settings_are_read_and_checked() -> None:
    settings = load_settings(
        {"RESPITE_ID_KEY": NEW, "RESPITE_ID_KEY_ID": "2", "RESPITE_ID_KEY_PREVIOUS": OLD}
    )
    assert (settings.id_key, settings.id_key_id, settings.id_key_previous) == (NEW, 2, OLD)
    bad = [
        ({"RESPITE_ID_KEY_PREVIOUS": OLD}, "RESPITE_ID_KEY_PREVIOUS needs RESPITE_ID_KEY"),
        ({"RESPITE_ID_KEY": NEW, "RESPITE_ID_KEY_PREVIOUS": OLD}, "RESPITE_ID_KEY_ID: "),
        (
            {"RESPITE_ID_KEY": OLD, "RESPITE_ID_KEY_ID": "2", "RESPITE_ID_KEY_PREVIOUS": OLD},
            "RESPITE_ID_KEY_PREVIOUS is the same key",
        ),
        ({"RESPITE_ID_KEY_ID": "0"}, "RESPITE_ID_KEY_ID: "),
        ({"RESPITE_ID_KEY_PREVIOUS": "short"}, "RESPITE_ID_KEY_PREVIOUS: "),
    ]
    for environ, message in bad:
        with pytest.raises(SettingsError, match=f"^{message}"):
            load_settings(environ)


# -- production refuses the public defaults ------------------------------------------------------

REAL = {
    "RESPITE_DATABASE_URL": "postgresql://respite@db.internal/respite",
    "RESPITE_REDIS_URL": "redis://cache.internal:6379/0",
}


def _refusal(environ: dict[str, str]) -> str | None:
    return production_refusal(load_settings(environ))


def test_servers_of_ones_own_are_production_and_need_both_secrets() -> None:
    refusal = _refusal(REAL)
    assert refusal is not None
    assert "RESPITE_SECRET_KEY" in refusal and "RESPITE_ID_KEY" in refusal
    assert "\n" not in refusal
    only_key = _refusal({**REAL, "RESPITE_SECRET_KEY": SECRET})
    assert only_key is not None and "RESPITE_ID_KEY" in only_key
    assert "RESPITE_SECRET_KEY" not in only_key
    assert _refusal({**REAL, "RESPITE_SECRET_KEY": SECRET, "RESPITE_ID_KEY": NEW}) is None
    # One real server is enough to hold real data.
    assert _refusal({"RESPITE_DATABASE_URL": REAL["RESPITE_DATABASE_URL"]}) is not None


@pytest.mark.parametrize("secret", [DEV_SECRET_KEY, "short-secret", ""])
def test_the_public_default_or_a_short_secret_is_refused(secret: str) -> None:
    refusal = _refusal({**REAL, "RESPITE_SECRET_KEY": secret, "RESPITE_ID_KEY": NEW})
    assert refusal is not None and "RESPITE_SECRET_KEY" in refusal


def test_the_environment_setting_decides_when_given() -> None:
    assert _refusal({}) is None  # private servers: development
    assert _refusal({"RESPITE_ENVIRONMENT": "production"}) is not None
    assert _refusal({**REAL, "RESPITE_ENVIRONMENT": "development"}) is None
    with pytest.raises(SettingsError, match=r"^RESPITE_ENVIRONMENT: "):
        load_settings({"RESPITE_ENVIRONMENT": "staging"})


def test_production_refuses_the_development_letterbox() -> None:
    ready = {**REAL, "RESPITE_SECRET_KEY": SECRET, "RESPITE_ID_KEY": NEW}
    refusal = _refusal({**ready, "RESPITE_LETTERBOX_DIR": "letters"})
    assert refusal is not None and "RESPITE_LETTERBOX_DIR" in refusal
    development = {**REAL, "RESPITE_ENVIRONMENT": "development"}
    assert _refusal({**development, "RESPITE_LETTERBOX_DIR": "letters"}) is None
