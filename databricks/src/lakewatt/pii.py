"""Masking personal data with a keyed hash (HMAC-SHA256), in Spark expressions only.

Spark has no HMAC function and Python UDFs are off limits, so HMAC is built from its definition
(RFC 2104): ``H((K ^ opad) || H((K ^ ipad) || m))``. The two padded keys are computed once on the driver and
enter the plan as binary literals; the per-row work is two ``sha2`` calls. The result is the lower-case hex
digest, identical to Python's ``hmac.new(key, value, sha256).hexdigest()`` (a test checks this).

Values are normalised before hashing so that one person hashes to one value across sources: surrounding
spaces removed, e-mail addresses lower-cased, phone numbers reduced to ``+`` and digits.

The key: on Databricks a secret (``dbutils.secrets.get(scope, key)``), locally a job parameter or the
``PII_HASH_KEY`` environment variable. There is no default key: a job that needs one and has none fails.
"""

from __future__ import annotations

import hashlib
import os

from pyspark.sql import Column
from pyspark.sql import functions as F

BLOCK_SIZE = 64  # SHA-256 block size in bytes
MIN_KEY_BYTES = 16


class MissingPiiKeyError(RuntimeError):
    """No PII hashing key was configured."""


def _padded_keys(key: bytes) -> tuple[bytes, bytes]:
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def hmac_sha256_hex(value: Column, key: bytes) -> Column:
    """HMAC-SHA256 of ``value`` (a string column, UTF-8) as lower-case hex; null stays null."""
    inner_key, outer_key = _padded_keys(key)
    inner = F.unhex(F.sha2(F.concat(F.lit(inner_key), F.encode(value, "UTF-8")), 256))
    return F.sha2(F.concat(F.lit(outer_key), inner), 256)


NORMALISERS = {
    "email": lambda c: F.lower(F.trim(c)),
    "phone": lambda c: F.regexp_replace(F.trim(c), r"[^+0-9]", ""),
}


def masked(column: str, key: bytes) -> Column:
    """``<column>_hash``: the keyed hash of the normalised value (empty after normalising -> null)."""
    normalise = NORMALISERS.get(column, lambda c: F.trim(c))
    value = normalise(F.col(column))
    value = F.when(F.length(value) > 0, value)
    return hmac_sha256_hex(value, key).alias(f"{column}_hash")


def resolve_key(*, key_param: str = "", secret_scope: str = "", secret_key: str = "") -> bytes:
    """The PII hashing key: job parameter, else the Databricks secret, else ``$PII_HASH_KEY``."""
    value = key_param or ""
    if not value and secret_scope and secret_key:
        from databricks.sdk.runtime import dbutils  # only present on Databricks

        value = dbutils.secrets.get(scope=secret_scope, key=secret_key)
    if not value:
        value = os.environ.get("PII_HASH_KEY", "")
    if not value:
        raise MissingPiiKeyError(
            "no PII hashing key: set the secret (pii_secret_scope/pii_secret_key) on Databricks, or the "
            "pii_hash_key job parameter / PII_HASH_KEY locally"
        )
    key = value.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise MissingPiiKeyError(f"the PII hashing key must be at least {MIN_KEY_BYTES} bytes")
    return key
