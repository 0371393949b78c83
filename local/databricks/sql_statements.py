"""SQL statements on the emulator's warm Spark worker: the local stand-in for a Databricks SQL warehouse.

The emulator's SQL Statement Execution API 2.0 (``/api/2.0/sql/statements``) hands each statement to a
worker (``worker.py``), which runs it here, in a thread of its own, on a second SparkSession of the worker's
SparkContext (``SparkSession.newSession``). So a statement never waits for the task thread, and a task
never waits for a statement: they share the JVM, the Delta log cache and the worker's Spark task slots,
where statements go to their own fair-scheduler pool (``sql``), so a statement gets the next free slot even
while a job keeps the others busy.

Tables: ``bronze.<table>``, ``silver.<table>`` and ``gold.<table>`` are the Delta folders under the lake's
layer roots (bronze raw-record tables under ``<silver>/_bronze``), registered as external tables in the
session catalog the way ``lakewatt.tables.ensure_table`` registers an existing folder (decision 0006). The
lakewatt package itself is not imported: a task's project modules are dropped after each task so edited job
code is seen on the next run, and a module a statement imported would stay loaded.

Only read-only statements run: an allow-list over Spark's parsed plan (queries over catalog tables, SHOW,
DESCRIBE, EXPLAIN of a query), then a check of the analysed plan; the statements' session runs with
``spark.sql.runSQLOnFiles=false`` (docs/security/local-runtime.md). Analysts read; the jobs write.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import decimal
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import urlparse

LAYERS = ("bronze", "silver", "gold")
# The statement kinds the local warehouse runs: queries, and the catalog commands that only read.
READ_ONLY_COMMANDS = frozenset(
    {
        "ShowTables",
        "ShowTablesExtended",
        "ShowNamespaces",
        "ShowNamespacesCommand",
        "ShowColumns",
        "ShowViews",
        "ShowFunctions",
        "ShowTableProperties",
        "ShowCreateTable",
        "ShowPartitions",
        "DescribeRelation",
        "DescribeColumn",
        "DescribeNamespace",
        "DescribeFunction",
    }
)
# Parsed query operators (an allow-list: any other node, a command, DDL or DML above all, is refused).
QUERY_NODES = frozenset(
    {
        "Project",
        "Filter",
        "Aggregate",
        "UnresolvedHaving",
        "Expand",
        "Join",
        "LateralJoin",
        "AsOfJoin",
        "Sort",
        "GlobalLimit",
        "LocalLimit",
        "Offset",
        "Tail",
        "Distinct",
        "Deduplicate",
        "Union",
        "Intersect",
        "Except",
        "SubqueryAlias",
        "UnresolvedRelation",
        "RelationTimeTravel",
        "UnresolvedInlineTable",
        "OneRowRelation",
        "LocalRelation",
        "UnresolvedWith",
        "WithCTE",
        "CTERelationDef",
        "CTERelationRef",
        "WithWindowDefinition",
        "Window",
        "Generate",
        "Pivot",
        "Unpivot",
        "Sample",
        "Range",
        "Repartition",
        "RepartitionByExpression",
        "RebalancePartitions",
        "ResolvedHint",
        "UnresolvedHint",
        "UnresolvedTableValuedFunction",
        "UnresolvedTVFAliases",
        "UnresolvedSubqueryColumnAliases",
        "PipeOperator",
    }
)
# Table-valued functions that compute rows; any other (one could read files or the catalog) is refused.
TABLE_FUNCTIONS = frozenset(
    {"range", "explode", "explode_outer", "inline", "inline_outer", "posexplode", "posexplode_outer", "stack"}
    | {"json_tuple"}
)
# Functions that call arbitrary JVM methods: not something a read-only warehouse runs.
CODE_FUNCTIONS = frozenset({"java_method", "reflect", "try_reflect"})
# The same, after analysis (a view's text is only seen there): script transforms and JVM reflection.
CODE_NODES = frozenset({"ScriptTransformation", "HiveScriptTransformationExec"})
CODE_EXPRESSIONS = frozenset({"CallMethodViaReflection", "TryReflect"})
# INLINE results above this fail, as the service's INLINE disposition does (25 MiB).
INLINE_BYTE_LIMIT = 25 * 1024 * 1024
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SQL_POOL = "sql"


class StatementFailed(Exception):
    """A statement that ends FAILED with the service's ``{error_code, message}``."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message


# -- statement text ---------------------------------------------------------------------------------------


def _skip_space_and_comments(text: str, at: int) -> int:
    while at < len(text):
        if text[at].isspace():
            at += 1
        elif text.startswith("--", at):
            end = text.find("\n", at)
            at = len(text) if end < 0 else end + 1
        elif text.startswith("/*", at):
            end = text.find("*/", at + 2)
            at = len(text) if end < 0 else end + 2
        else:
            break
    return at


def _sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


PARAMETER_TYPES = re.compile(
    r"(STRING|INT|INTEGER|BIGINT|LONG|SMALLINT|SHORT|TINYINT|BYTE|DOUBLE|FLOAT|REAL|BOOLEAN|DATE|TIMESTAMP"
    r"|TIMESTAMP_NTZ|DECIMAL(\(\s*\d+\s*(,\s*\d+\s*)?\))?)",
    re.IGNORECASE,
)


def bind_parameters(statement: str, parameters: Iterable[Mapping[str, Any]]) -> str:
    """Replaces ``:name`` markers with typed literals (``CAST('value' AS type)``, or NULL).

    The service binds named parameter markers the same way: each value is a string cast to its declared
    type (STRING when none). Markers inside string literals, quoted identifiers and comments are left alone,
    and so is the ``::`` cast operator. The values are escaped literals, never statement text.
    """
    values: dict[str, str] = {}
    for parameter in parameters:
        name = str(parameter.get("name") or "")
        if not IDENTIFIER.fullmatch(name):
            raise StatementFailed("BAD_REQUEST", f"parameter name {name!r} is not a valid identifier")
        type_text = str(parameter.get("type") or "STRING").strip()
        if not PARAMETER_TYPES.fullmatch(type_text):
            raise StatementFailed("BAD_REQUEST", f"parameter {name}: unsupported type {type_text!r}")
        value = parameter.get("value")
        values[name] = "NULL" if value is None else f"CAST({_sql_string(str(value))} AS {type_text.upper()})"
    out: list[str] = []
    at = 0
    while at < len(statement):
        char = statement[at]
        if statement.startswith("--", at) or statement.startswith("/*", at):
            end = _skip_space_and_comments(statement, at)
            out.append(statement[at:end])
            at = end
        elif char in "'\"`":
            end = at + 1
            while end < len(statement) and statement[end] != char:
                end += 2 if statement[end] == "\\" and char != "`" else 1
            out.append(statement[at : end + 1])
            at = end + 1
        elif char == ":" and statement.startswith("::", at):
            out.append("::")
            at += 2
        elif char == ":" and (match := IDENTIFIER.match(statement, at + 1)):
            name = match.group(0)
            if name not in values:
                raise StatementFailed(
                    "BAD_REQUEST", f"[UNBOUND_SQL_PARAMETER] Found the unbound parameter: {name}."
                )
            out.append(values[name])
            at = match.end()
        else:
            out.append(char)
            at += 1
    return "".join(out)


# -- values -----------------------------------------------------------------------------------------------


def type_text(data_type: Any) -> str:
    """The full SQL type as the service spells it: ``ARRAY<STRING>``, ``STRUCT<name: INT>``, ``BIGINT``."""
    from pyspark.sql import types as t

    if isinstance(data_type, t.ArrayType):
        return f"ARRAY<{type_text(data_type.elementType)}>"
    if isinstance(data_type, t.MapType):
        return f"MAP<{type_text(data_type.keyType)}, {type_text(data_type.valueType)}>"
    if isinstance(data_type, t.StructType):
        return "STRUCT<" + ", ".join(f"{f.name}: {type_text(f.dataType)}" for f in data_type.fields) + ">"
    return str(data_type.simpleString()).upper()


def column_info(field: Any, position: int) -> dict[str, Any]:
    """The service's ColumnInfo for a Spark StructField."""
    from pyspark.sql import types as t

    data_type = field.dataType
    names: list[tuple[type, str]] = [
        (t.StringType, "STRING"),
        (t.CharType, "CHAR"),
        (t.VarcharType, "STRING"),
        (t.BooleanType, "BOOLEAN"),
        (t.ByteType, "BYTE"),
        (t.ShortType, "SHORT"),
        (t.IntegerType, "INT"),
        (t.LongType, "LONG"),
        (t.FloatType, "FLOAT"),
        (t.DoubleType, "DOUBLE"),
        (t.DecimalType, "DECIMAL"),
        (t.DateType, "DATE"),
        (t.TimestampType, "TIMESTAMP"),
        (t.TimestampNTZType, "TIMESTAMP"),
        (t.BinaryType, "BINARY"),
        (t.ArrayType, "ARRAY"),
        (t.MapType, "MAP"),
        (t.StructType, "STRUCT"),
        (t.NullType, "NULL"),
        (t.DayTimeIntervalType, "INTERVAL"),
        (t.YearMonthIntervalType, "INTERVAL"),
    ]
    type_name = next((name for cls, name in names if isinstance(data_type, cls)), "USER_DEFINED_TYPE")
    info: dict[str, Any] = {
        "name": field.name,
        "type_text": type_text(data_type),
        "type_name": type_name,
        "position": position,
    }
    if isinstance(data_type, t.DecimalType):
        info["type_precision"] = data_type.precision
        info["type_scale"] = data_type.scale
    return info


def _timestamp(value: dt.datetime) -> str:
    """ISO 8601 in UTC with milliseconds (the worker runs with TZ=UTC, so naive values are UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    text += f".{micros:06d}" if micros % 1000 else f".{micros // 1000:03d}"
    return text + "Z"


def _json_value(value: Any) -> Any:
    """A nested value (inside an ARRAY, MAP or STRUCT) as a JSON value."""
    from pyspark.sql import Row

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else wire_value(value)
    if isinstance(value, Row):
        return {k: _json_value(v) for k, v in value.asDict(recursive=False).items()}
    if isinstance(value, dict):
        return {str(_json_value(k)): _json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    return wire_value(value)


def wire_value(value: Any, *, ntz: bool = False) -> str | None:
    """One value as the JSON_ARRAY format sends it: a string, or null."""
    from pyspark.sql import Row

    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return _timestamp(value)[:-1] if ntz else _timestamp(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, Row | dict | list | tuple):
        return json.dumps(_json_value(value), separators=(",", ":"))
    return str(value)


# -- tables -----------------------------------------------------------------------------------------------


def _local_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return parsed.path
    return uri if parsed.scheme == "" else None


def _join(root: str, name: str) -> str:
    return f"{root.rstrip('/')}/{name}"


class LakeCatalog:
    """Registers the lake's Delta folders as ``<layer>.<table>`` in the session catalog (once each)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registered: dict[str, str] = {}

    def register(self, session: Any, roots: Mapping[str, str]) -> None:
        with self._lock:
            for layer in LAYERS:
                session.sql(f"CREATE SCHEMA IF NOT EXISTS {layer}")
                root = roots.get(layer)
                folder = _local_path(root) if root else None
                if not root or not folder or not os.path.isdir(folder):
                    continue
                skip = {"_bronze"} if layer == "silver" else set()
                for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                    if entry.name in skip or not IDENTIFIER.fullmatch(entry.name):
                        continue
                    if not os.path.isdir(os.path.join(entry.path, "_delta_log")):
                        continue
                    with contextlib.suppress(Exception):
                        # A table another thread (a job) registers at this moment: the next statement retries.
                        self._register_one(session, layer, entry.name, _join(root, entry.name))

    def _register_one(self, session: Any, layer: str, table: str, location: str) -> None:
        key = f"{layer}.{table}"
        wanted = os.path.normpath(_local_path(location) or location)
        if self._registered.get(key) == wanted and session.catalog.tableExists(key):
            return
        if session.catalog.tableExists(key):
            if self._location(session, layer, table) == wanted:
                self._registered[key] = wanted
                return
            # Registered at another lake root by an earlier run: point the name here, as ensure_table does.
            session.sql(f"DROP TABLE {layer}.`{table}`")
        name = f"{layer}.`{table}`"
        session.sql(f"CREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION {_sql_string(location)}")
        self._registered[key] = wanted

    @staticmethod
    def _location(session: Any, layer: str, table: str) -> str | None:
        try:
            meta = session._jsparkSession.sharedState().externalCatalog().getTable(layer, table)
            uri = str(meta.location().toString())
        except Exception:
            return None
        path = _local_path(uri)
        return os.path.normpath(path) if path else None


# -- one statement ----------------------------------------------------------------------------------------


REFUSAL = "[INSUFFICIENT_PERMISSIONS{sub}] The local SQL warehouse runs read-only queries only: {why}."


def _refuse(sub: str, why: str) -> StatementFailed:
    return StatementFailed("BAD_REQUEST", REFUSAL.format(sub=f".{sub}" if sub else "", why=why))


def _seq(values: Any) -> list[Any]:
    """A Scala Seq (or Option) over py4j as a Python list."""
    out: list[Any] = []
    iterator = values.iterator()
    while iterator.hasNext():
        out.append(iterator.next())
    return out


def _kinds(node: Any) -> set[str]:
    """Simple names of a JVM object's class, its superclasses and their interfaces."""
    names: set[str] = set()
    cls = node.getClass()
    while cls is not None:
        names.add(str(cls.getSimpleName()))
        names.update(str(i.getSimpleName()) for i in cls.getInterfaces())
        cls = cls.getSuperclass()
    return names


def _name(node: Any) -> str:
    return str(node.getClass().getSimpleName())


class PlanCheck:
    """Walks a parsed plan (subqueries, CTEs and expressions included) against the read-only allow-list."""

    def __init__(self, session: Any) -> None:
        self._catalog = session.catalog
        self._namespaces: dict[str, bool] = {}

    def statement(self, plan: Any) -> None:
        kind = _name(plan)
        if kind == "ExplainCommand":
            self.query(plan.logicalPlan())
        elif kind in READ_ONLY_COMMANDS:
            return
        else:
            self.query(plan)

    def query(self, plan: Any) -> None:
        pending = [plan]
        while pending:
            node = pending.pop()
            kind = _name(node)
            if kind == "ScriptTransformation":
                raise _refuse("SCRIPT_TRANSFORMATION", "TRANSFORM ... USING runs a command on the worker")
            if kind not in QUERY_NODES:
                raise _refuse("", f"{kind} is not a query; analysts read the lake, the jobs write it")
            if kind == "UnresolvedRelation":
                self._relation(_seq(node.multipartIdentifier()))
            elif kind == "UnresolvedTableValuedFunction":
                self._table_function(_seq(node.name()))
            pending.extend(_seq(node.children()))
            pending.extend(_seq(node.innerChildren()))
            for expression in _seq(node.expressions()):
                pending.extend(self._expression(expression))

    def _expression(self, root: Any) -> list[Any]:
        """Checks the functions an expression calls; returns the plans of its subqueries."""
        plans: list[Any] = []
        pending = [root]
        while pending:
            expression = pending.pop()
            kinds = _kinds(expression)
            if "UnresolvedFunction" in kinds:
                name = str(_seq(expression.nameParts())[-1]).lower()
                if name in CODE_FUNCTIONS:
                    raise _refuse("CODE_EXECUTION", f"{name} calls JVM methods")
            if "SubqueryExpression" in kinds:
                plans.append(expression.plan())
            pending.extend(_seq(expression.children()))
        return plans

    def _relation(self, parts: list[str]) -> None:
        # One part: a CTE or a table of the current schema. More: the first names a schema of the
        # session catalog (or is spark_catalog); anything else is `<format>.`<path>`, a file read by path.
        schema = parts[1] if len(parts) == 3 and parts[0].lower() == "spark_catalog" else parts[0]
        if len(parts) == 1 or (len(parts) <= 3 and self._is_namespace(schema)):
            return
        shown = ".".join(f"`{p}`" if i else p for i, p in enumerate(parts))
        raise _refuse("PATH_BASED_RELATION", f"{shown} reads files by path; name a table (<layer>.<table>)")

    def _is_namespace(self, name: str) -> bool:
        if name not in self._namespaces:
            self._namespaces[name] = bool(IDENTIFIER.fullmatch(name)) and self._catalog.databaseExists(name)
        return self._namespaces[name]

    @staticmethod
    def _table_function(parts: list[str]) -> None:
        name = str(parts[-1]).lower()
        if len(parts) != 1 or name not in TABLE_FUNCTIONS:
            allowed = ", ".join(sorted(TABLE_FUNCTIONS))
            raise _refuse("TABLE_FUNCTION", f"the table function {name} is not one of {allowed}")


def check_read_only(session: Any, statement: str) -> None:
    """Refuses anything but a read-only query, with the service's INSUFFICIENT_PERMISSIONS error class.

    An allow-list over the parsed plan (so a syntax error fails first with Spark's own PARSE_SYNTAX_ERROR):
    query operators over catalog tables, a few catalog commands that only read (SHOW, DESCRIBE) and EXPLAIN
    of a query. Script transforms, relations named by path (``text.`/etc/passwd```), table functions other
    than the generators and reflection are refused wherever they appear.
    """
    plan = session._jsparkSession.sessionState().sqlParser().parsePlan(statement)
    PlanCheck(session).statement(plan)


def check_analysed(frame: Any) -> None:
    """After analysis (views expanded): no script transform and no JVM reflection anywhere in the plan."""
    pending = [frame._jdf.queryExecution().analyzed()]
    while pending:
        node = pending.pop()
        if _name(node) in CODE_NODES:
            raise _refuse("SCRIPT_TRANSFORMATION", "TRANSFORM ... USING runs a command on the worker")
        expressions = _seq(node.expressions())
        while expressions:
            expression = expressions.pop()
            if _name(expression) in CODE_EXPRESSIONS:
                raise _refuse("CODE_EXECUTION", "reflection calls JVM methods")
            if "SubqueryExpression" in _kinds(expression):
                pending.append(expression.plan())
            expressions.extend(_seq(expression.children()))
        pending.extend(_seq(node.children()))
        pending.extend(_seq(node.innerChildren()))


def error_of(exc: BaseException) -> StatementFailed:
    """The service's error for an exception a statement raised."""
    if isinstance(exc, StatementFailed):
        return exc
    condition = None
    with contextlib.suppress(Exception):
        condition = exc.getCondition()  # type: ignore[attr-defined]
    message = str(exc).strip()
    # Spark's own message; its JVM stack trace stays in the worker log.
    message = message.split("\n\tat ", 1)[0].strip()
    if condition:
        return StatementFailed("BAD_REQUEST", message)
    return StatementFailed("INTERNAL_ERROR", f"{type(exc).__name__}: {message}")


def execute(
    session: Any,
    statement: str,
    *,
    parameters: Iterable[Mapping[str, Any]] = (),
    row_limit: int | None = None,
    byte_limit: int | None = None,
    on_started: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Runs one read-only statement; returns ``{columns, rows, truncated}`` (rows in JSON_ARRAY form)."""
    from pyspark.sql import types as t

    text = bind_parameters(statement, parameters)
    check_read_only(session, text)
    on_started()
    frame = session.sql(text)
    check_analysed(frame)
    fields = frame.schema.fields
    columns = [column_info(f, i) for i, f in enumerate(fields)]
    ntz = [isinstance(f.dataType, t.TimestampNTZType) for f in fields]
    limited = frame.limit(row_limit + 1) if row_limit is not None else frame
    limit_bytes = byte_limit if byte_limit is not None else INLINE_BYTE_LIMIT
    rows: list[list[str | None]] = []
    size = 0
    truncated = False
    for row in limited.toLocalIterator():
        if row_limit is not None and len(rows) >= row_limit:
            truncated = True
            break
        values = [wire_value(v, ntz=n) for v, n in zip(row, ntz, strict=True)]
        size += len(json.dumps(values))
        if size > limit_bytes:
            if byte_limit is None:
                raise StatementFailed(
                    "BAD_REQUEST",
                    "The statement's result is larger than the INLINE limit of 25 MiB; "
                    "narrow it (LIMIT, WHERE) or pass row_limit or byte_limit.",
                )
            truncated = True
            break
        rows.append(values)
    return {"columns": columns, "rows": rows, "truncated": truncated}
