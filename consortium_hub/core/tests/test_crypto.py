"""core/crypto.py: Fernet encryption at rest, key rotation, and clear errors for wrong or bad keys."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from consortium_hub.core import crypto

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
OTHER_KEY = Fernet.generate_key().decode()


def test_round_trip_hides_the_plaintext(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    stored = crypto.encrypt("a-secret-token")
    assert stored.startswith(crypto.PREFIX)
    assert "a-secret-token" not in stored
    assert crypto.decrypt(stored) == "a-secret-token"


def test_the_same_plaintext_encrypts_differently_each_time(settings):
    # Fernet uses a fresh IV per message: equal secrets are not recognisable in the database.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.encrypt("same") != crypto.encrypt("same")


def test_rotation_encrypts_with_the_first_key_and_still_reads_the_old_one(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    written_before = crypto.encrypt("before rotation")

    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    written_after = crypto.encrypt("after rotation")
    assert crypto.decrypt(written_before) == "before rotation"
    assert crypto.decrypt(written_after) == "after rotation"

    # Once the old key is dropped, only what the new key wrote can be read.
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert crypto.decrypt(written_after) == "after rotation"
    with pytest.raises(ValueError, match="no longer configured"):
        crypto.decrypt(written_before)


def test_a_wrong_key_gives_a_clear_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    stored = crypto.encrypt("secret")
    settings.FIELD_ENCRYPTION_KEYS = [OTHER_KEY]
    with pytest.raises(ValueError, match="encrypted with a key that is no longer configured"):
        crypto.decrypt(stored)


def test_tampered_ciphertext_is_refused(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    stored = crypto.encrypt("secret")
    body = stored[len(crypto.PREFIX):]
    tampered = crypto.PREFIX + body[:-6] + ("A" if body[-6] != "A" else "B") + body[-5:]
    with pytest.raises(ValueError):
        crypto.decrypt(tampered)


def test_plaintext_in_the_column_is_never_taken_for_a_secret(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(ValueError, match="not encrypted"):
        crypto.decrypt("looks-like-a-token")


def test_missing_or_malformed_keys_stop_with_a_configuration_error(settings):
    settings.FIELD_ENCRYPTION_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="empty"):
        crypto.encrypt("x")
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        crypto.encrypt("x")


def test_the_field_leaves_empty_and_null_values_alone(settings):
    settings.FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    field = crypto.EncryptedTextField()
    assert field.get_prep_value("") == ""
    assert field.get_prep_value(None) is None
    assert field.from_db_value("", None, None) == ""
    assert field.from_db_value(None, None, None) is None
    prepared = field.get_prep_value("token")
    assert prepared.startswith(crypto.PREFIX) and field.from_db_value(prepared, None, None) == "token"
