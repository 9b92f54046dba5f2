"""Encryption at rest for Glance API keys (Fernet; MultiFernet so keys can be rotated).

FIELD_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts, every one
of them decrypts. To rotate, put a new key first, run `manage.py rotate_encryption_key`, then
drop the old key.
"""

import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver


class DecryptionError(Exception):
    """The stored value was not made with any of the configured keys."""


@cache
def _fernet():
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


@receiver(setting_changed)
def _forget_keys(setting, **kwargs):
    if setting == "FIELD_ENCRYPTION_KEYS":
        _fernet.cache_clear()


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise DecryptionError(
            "A stored API key cannot be decrypted with FIELD_ENCRYPTION_KEY; "
            "was the key changed without rotating?"
        ) from None


def rotate(token: str) -> str:
    """Re-encrypt with the first (current) key."""
    return _fernet().rotate(token.encode()).decode()


def digest(secret: str) -> str:
    """What is stored of a secret that is only ever compared (API tokens, kiosk links): its
    SHA-256, so a database dump does not hand out working links or tokens."""
    return hashlib.sha256(secret.encode()).hexdigest()
