"""The PII hashing key stays out of every plan text Spark prints (EXPLAIN, the SQL UI, query profiles)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from contextlib import redirect_stdout

import pytest
from pyspark.sql import DataFrame, SparkSession

from lakewatt.transforms.silver import bronze_records

# A key of its own, so nothing else in the session's history can contain it by chance.
KEY = b"plan-leak-probe-key-7f3a9c2e51d8b406"
ROWS = [
    ("CU1", "Anna Schmidt", " Anna@Example.org ", "+49 30 1234", "Lindenallee 5"),
    ("CU2", "Zoë Müller", None, "", "Hauptstr. 1"),
]


def key_forms(key: bytes) -> dict[str, str]:
    """Every spelling of the key, or of the HMAC pads that give it back by XOR, a plan could print."""
    padded = key.ljust(64, b"\0")  # RFC 2104: a key of up to one block is padded with zeros
    ipad = bytes(b ^ 0x36 for b in padded)
    opad = bytes(b ^ 0x5C for b in padded)
    forms = {
        "raw": key.decode("ascii"),
        "base64": base64.b64encode(key).decode(),
        "base64 (no padding)": base64.b64encode(key).decode().rstrip("="),
    }
    for name, value in (("key", key), ("ipad", ipad), ("opad", opad)):
        # The key's own bytes within a pad are enough to recover it, so look for that part alone.
        part = value[: len(key)]
        forms[f"{name} hex"] = part.hex()
        forms[f"{name} HEX"] = part.hex().upper()
        forms[f"{name} bytes"] = ", ".join(str(b - 256 if b > 127 else b) for b in part[:8])
    return forms


def masked_customers(spark: SparkSession) -> DataFrame:
    schema = "customer_id string, name string, email string, phone string, street string"
    staged = spark.createDataFrame(ROWS, schema)
    return bronze_records(staged, "customers", KEY)


def plan_texts(spark: SparkSession, df: DataFrame) -> dict[str, str]:
    texts = {"queryExecution": df._jdf.queryExecution().toString()}
    for mode in ("extended", "formatted", "cost", "codegen"):
        out = io.StringIO()
        with redirect_stdout(out):
            df.explain(mode=mode)
        texts[f"explain {mode}"] = out.getvalue()
    df.collect()  # an execution, so the SQL status store (what the Spark UI's SQL tab shows) has it
    spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty()
    executions = spark._jsparkSession.sharedState().statusStore().executionsList()
    for i in range(executions.size()):
        execution = executions.apply(i)
        # Any of the three can be null (an execution started without a call site has no description).
        parts = (execution.description(), execution.details(), execution.physicalPlanDescription())
        texts[f"SQL execution {execution.executionId()}"] = "\n".join(part or "" for part in parts)
    return texts


def test_when_customers_are_masked_then_no_plan_text_contains_the_key_or_its_pads(spark: SparkSession):
    texts = plan_texts(spark, masked_customers(spark))

    leaks = [
        f"{form} in {where}"
        for where, text in texts.items()
        for form, needle in key_forms(KEY).items()
        if needle.lower() in text.lower()
    ]
    assert any(where.startswith("SQL execution") for where in texts)
    assert leaks == [], "\n".join(leaks)


@pytest.mark.parametrize("column", ["name_hash", "email_hash", "phone_hash"])
def test_when_customers_are_masked_then_each_hash_is_python_hmac_of_the_normalised_value(
    spark: SparkSession, column: str
):
    def expected(value: str | None) -> str | None:
        return None if value is None else hmac.new(KEY, value.encode(), hashlib.sha256).hexdigest()

    normalised = {
        "name_hash": ["Anna Schmidt", "Zoë Müller"],
        "email_hash": ["anna@example.org", None],
        "phone_hash": ["+49301234", None],
    }[column]

    rows = masked_customers(spark).orderBy("customer_id").collect()

    assert [row[column] for row in rows] == [expected(v) for v in normalised]
    assert "street" not in rows[0].asDict()
