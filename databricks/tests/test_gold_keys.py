"""Informational primary and foreign keys of gold (#13): consistent with the schemas, and declared on Unity
Catalog once both ends of a key exist, whichever table is created first. No Spark: Unity Catalog cannot run
here, so its session is a fake that records the SQL it is sent."""

from __future__ import annotations

from lakewatt.context import LakeRoots, RunContext
from lakewatt.gold_tables import GOLD_TABLES
from lakewatt.tables import create_table_sql, ensure_table


def field(table: str, column: str):
    return next(f for f in GOLD_TABLES[table].schema.fields if f.name == column)


def test_when_a_gold_table_declares_a_foreign_key_then_it_references_a_one_column_key_of_the_same_type():
    keys = [(t, c, target) for t, spec in GOLD_TABLES.items() for c, target in spec.foreign_keys.items()]

    assert keys
    for table, column, target in keys:
        assert len(GOLD_TABLES[target].primary_key) == 1, f"{table}.{column} -> {target}"
        (key,) = GOLD_TABLES[target].primary_key
        assert field(table, column).dataType == field(target, key).dataType, f"{table}.{column}"


def test_when_a_gold_table_has_a_primary_key_then_its_columns_are_not_nullable():
    for table, spec in GOLD_TABLES.items():
        for column in spec.primary_key:
            assert not field(table, column).nullable, f"{table}.{column}"


class FakeUnityCatalogCatalog:
    def __init__(self, session: FakeUnityCatalogSession) -> None:
        self.session = session

    def tableExists(self, name: str) -> bool:
        return name in self.session.tables


class FakeUnityCatalogSession:
    """The calls ``ensure_table`` makes of a Databricks session: the SQL it sends, and which tables exist
    (a table exists once its CREATE TABLE was sent)."""

    def __init__(self) -> None:
        self.tables: set[str] = set()
        self.statements: list[str] = []
        self.catalog = FakeUnityCatalogCatalog(self)

    def sql(self, statement: str) -> FakeResult:
        self.statements.append(" ".join(statement.split()))
        if statement.startswith("CREATE TABLE IF NOT EXISTS "):
            self.tables.add(statement.split()[5])
        return FakeResult()


class FakeResult:
    """A statement's result: no rows (a new table has no properties and no constraints yet)."""

    def collect(self) -> list:
        return []


def unity_catalog_context() -> RunContext:
    containers = ("staging", "silver", "gold", "audit")
    roots = LakeRoots(*(f"abfss://{c}@lake.dfs.core.windows.net/" for c in containers))
    return RunContext(job="gold", orchestration_id="g-1", generation=0, roots=roots, catalog="lakewatt")


def foreign_keys(session: FakeUnityCatalogSession) -> set[str]:
    return {s for s in session.statements if "FOREIGN KEY" in s}


def test_when_a_dimension_is_created_before_the_fact_then_the_fact_declares_its_key_on_creation():
    session, ctx = FakeUnityCatalogSession(), unity_catalog_context()

    ensure_table(session, ctx, GOLD_TABLES["dim_meter"])  # type: ignore[arg-type]
    ensure_table(session, ctx, GOLD_TABLES["customer_daily_cost"])  # type: ignore[arg-type]

    assert foreign_keys(session) == {
        "ALTER TABLE lakewatt.gold.customer_daily_cost ADD CONSTRAINT customer_daily_cost_meter_id_fk "
        "FOREIGN KEY (meter_id) REFERENCES lakewatt.gold.dim_meter (meter_id)"
    }


def test_when_the_fact_is_created_before_the_dimension_then_the_dimension_declares_the_facts_key():
    session, ctx = FakeUnityCatalogSession(), unity_catalog_context()

    ensure_table(session, ctx, GOLD_TABLES["customer_daily_cost"])  # type: ignore[arg-type]
    assert foreign_keys(session) == set()
    ensure_table(session, ctx, GOLD_TABLES["dim_customer"])  # type: ignore[arg-type]

    assert foreign_keys(session) == {
        "ALTER TABLE lakewatt.gold.customer_daily_cost ADD CONSTRAINT customer_daily_cost_customer_id_fk "
        "FOREIGN KEY (customer_id) REFERENCES lakewatt.gold.dim_customer (customer_id)"
    }


def test_when_a_table_with_a_primary_key_is_created_on_unity_catalog_then_the_key_is_in_its_ddl():
    sql = create_table_sql(GOLD_TABLES["dim_date"], "c.gold.dim_date", "abfss://x", with_primary_key=True)

    assert "CONSTRAINT dim_date_pk PRIMARY KEY (date, timezone)" in sql
    assert "PRIMARY KEY" not in create_table_sql(GOLD_TABLES["dim_date"], "gold.dim_date", "/tmp/x")
