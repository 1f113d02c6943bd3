import msgspec
import pytest

from respite.auth.model import (
    FamilyRegistration,
    hash_password,
    hash_token,
    identifier_hash,
    new_token,
    normalise_phone,
    verify_password,
)


def test_password_hash_verifies_only_the_same_password() -> None:
    stored = hash_password("correct horse battery")
    assert stored.startswith("scrypt$")
    assert "correct horse" not in stored
    assert verify_password("correct horse battery", stored)
    assert not verify_password("correct horse battery!", stored)
    assert hash_password("correct horse battery") != stored  # salted


@pytest.mark.parametrize("stored", ["", "plain", "bcrypt$1$2$3$4$5", "scrypt$x"])
def test_malformed_stored_hashes_never_verify(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_tokens_are_random_and_hashed() -> None:
    first, second = new_token(), new_token()
    assert first != second and first.startswith("rsp_") and len(first) > 40
    assert hash_token(first) != hash_token(second)
    assert len(hash_token(first)) == 32


def test_identifier_hash_is_keyed() -> None:
    assert identifier_hash("k1", "13800000000") != identifier_hash("k2", "13800000000")
    assert normalise_phone("+86 138-0000 0000") == "+8613800000000"


def test_registration_needs_email_or_phone() -> None:
    with pytest.raises(msgspec.ValidationError, match="email: give an email"):
        msgspec.json.decode(
            b'{"name": "Li", "password": "long enough pw"}', type=FamilyRegistration
        )
