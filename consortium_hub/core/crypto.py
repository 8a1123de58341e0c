"""Encryption at rest for secrets the hub must be able to read back (ORCID tokens, client secrets).

Fernet (from `cryptography`) gives authenticated encryption; `MultiFernet` lets an operator rotate
keys: the first key in `FIELD_ENCRYPTION_KEYS` encrypts, every key decrypts. The database only ever
holds ciphertext, so a leaked dump or backup does not leak anyone's ORCID grant.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

# Ciphertext carries this prefix so a value can never be mistaken for plaintext (or vice versa).
PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: secrets cannot be stored.")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key: {exc}") from exc


def cipher() -> MultiFernet:
    return _cipher(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    return PREFIX + cipher().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(PREFIX):
        raise ValueError("value is not encrypted")
    try:
        return cipher().decrypt(stored[len(PREFIX):].encode()).decode()
    except InvalidToken as exc:
        raise ValueError("value was encrypted with a key that is no longer configured") from exc


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; Python code sees plaintext, the database sees ciphertext.

    Encrypted values cannot be searched or compared in SQL, which is the point: look rows up by
    another column.
    """

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))
