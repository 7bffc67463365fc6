"""Field encryption at rest and keyed blind indexes.

- `encrypt()` / `decrypt()`: Fernet (AES-128-CBC + HMAC-SHA256) with
  MultiFernet over settings.FIELD_ENCRYPTION_KEY (comma-separated, newest
  first), so keys rotate by prepending a new one.
- `blind_index()`: HMAC-SHA256 of a normalised value under
  settings.FIELD_HASH_KEY, stored beside the ciphertext so that equality
  look-ups (duplicate tax ids) never decrypt the table.
"""

import base64
import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet_key(raw: str) -> bytes:
    """Accept a proper Fernet key, or derive one from any other secret string."""
    raw = raw.strip()
    try:
        if len(base64.urlsafe_b64decode(raw.encode())) == 32:
            return raw.encode()
    except (ValueError, TypeError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest())


@lru_cache(maxsize=4)
def _multifernet(keys: str) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys.split(",") if k.strip()])


def encrypt(plaintext: str) -> str:
    return _multifernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _multifernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("ciphertext cannot be decrypted with the configured keys") from exc


def blind_index(value: str, purpose: str) -> str:
    """Hex HMAC-SHA256 of `value` for the given purpose (e.g. "tax_id").

    The purpose is mixed in so the same value indexed for two purposes gives
    unrelated digests."""
    key = settings.FIELD_HASH_KEY.encode()
    message = f"{purpose}:{value}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()
