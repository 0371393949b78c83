"""The Power BI project (bi/, a PBIP with a TMDL semantic model) checked against the gold contracts (#13).

No Spark: the contracts are the ``TableSpec`` schemas and column comments in ``lakewatt.gold_tables``, and the
model is read by a small, strict reader of the TMDL subset ``bi/`` uses (objects by tab indentation, ``///``
descriptions, ``key: value`` properties, flags, single-line and multi-line ``=`` expressions, ``ref``). A
column renamed, retyped, added or dropped in gold fails here until the model follows (or the column is
excluded below, with the reason). docs/power-bi.md explains the model.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest
from pyspark.sql.types import (
    BooleanType,
    DataType,
    DateType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    TimestampType,
)

from lakewatt.gold_tables import GOLD_TABLES

BI = Path(__file__).resolve().parents[2] / "bi"
SEMANTIC_MODEL = BI / "Lakewatt.SemanticModel"
DEFINITION = SEMANTIC_MODEL / "definition"
DATE_TABLE, DATE_KEY = "dim_date", "date"
PARAMETERS = {"DatabricksHost", "DatabricksHttpPath", "DatabricksCatalog", "Timezone"}

# Gold tables the model leaves out, and why.
EXCLUDED_TABLES = {
    "forecast_features": (
        "hourly rows per meter with lags, rolling means and prices: the input of load forecasting, read from "
        "notebooks, not reports; its kWh are in daily_consumption and load_profile_hourly at report grain"
    ),
    "dim_contract": (
        "contract versions (SCD type 2, one row per version): the facts carry contract_id, not a version, "
        "and a relationship needs a unique key; as-of questions go to SQL (join on the validity columns)"
    ),
}
# Gold columns the model leaves out, and why (none today: every gold column is a type Power BI loads).
EXCLUDED_COLUMNS: dict[tuple[str, str], str] = {}
# Model tables with a date column that are not related to the date table, and why.
UNRELATED_TABLES = {
    "dim_holiday": (
        "long form, several rows per date (one per holiday, country and region): a lookup; the date table "
        "already carries the Timezone zone's nationwide holiday"
    ),
}

# Spark type of a gold column -> TMDL dataType; a type missing here (map, array, struct) Power BI cannot load.
TMDL_TYPES: dict[type[DataType], str] = {
    StringType: "string",
    DateType: "dateTime",
    TimestampType: "dateTime",
    DoubleType: "double",
    LongType: "int64",
    IntegerType: "int64",
    BooleanType: "boolean",
}


# --- The TMDL reader -------------------------------------------------------------------------------------

# What bi/ writes, plus the objects Power BI Desktop adds when it saves the project.
TOP_LEVEL_KINDS = frozenset({"database", "model", "table", "relationship", "expression"}) | frozenset(
    {"role", "culture", "cultureInfo", "perspective", "queryGroup", "dataSource"}
)
CHILD_KINDS = frozenset({"column", "measure", "partition", "annotation", "hierarchy", "tablePermission"})
OBJECT_KINDS = TOP_LEVEL_KINDS | CHILD_KINDS


class TmdlError(ValueError):
    pass


@dataclass
class Node:
    kind: str
    name: str
    where: str
    value: str | None = None  # after '=' on the declaration line
    description: str | None = None
    props: dict[str, str] = field(default_factory=dict)  # 'key: value'; a bare flag is 'true'
    expressions: dict[str, str] = field(default_factory=dict)  # 'key =' blocks; '' is the default property
    children: list[Node] = field(default_factory=list)

    def kids(self, kind: str) -> list[Node]:
        return [c for c in self.children if c.kind == kind]


def _indent(line: str, where: str) -> tuple[int, str]:
    text = line.lstrip("\t")
    if text[:1].isspace():
        raise TmdlError(f"{where}: indentation must be tabs")
    return len(line) - len(text), text


def _split_name(text: str, where: str) -> tuple[str, str]:
    """An object name, bare or in single quotes ('' escapes a quote), and what follows it."""
    quoted = re.match(r"'((?:[^']|'')+)'", text)
    if quoted:
        return quoted.group(1).replace("''", "'"), text[quoted.end() :].strip()
    bare = re.match(r"[^\s'=]+", text)
    if not bare:
        raise TmdlError(f"{where}: no object name in {text!r}")
    return bare.group(0), text[bare.end() :].strip()


def _declaration(text: str, where: str) -> Node:
    kind, _, rest = text.partition(" ")
    if kind == "database" and not rest:
        return Node(kind, "", where)  # Desktop writes an unnamed database
    if kind not in OBJECT_KINDS or not rest:
        raise TmdlError(f"{where}: not an object declaration: {text!r}")
    name, tail = _split_name(rest, where)
    if tail and not tail.startswith("="):
        raise TmdlError(f"{where}: unexpected {tail!r} after the name")
    return Node(kind, name, where, value=tail[1:].strip() if tail else None)


def _expression(lines: list[str], i: int, depth: int, where: str) -> tuple[str, int]:
    """A multi-line expression: the lines indented ``depth`` tabs or more (blank lines included)."""
    body: list[str] = []
    while i < len(lines):
        if lines[i].strip():
            level, _ = _indent(lines[i], f"{where}:{i + 1}")
            if level < depth:
                break
            body.append(lines[i][depth:])
        else:
            body.append("")
        i += 1
    while body and not body[-1]:
        body.pop()
    if not body:
        raise TmdlError(f"{where}:{i}: an '=' with no expression")
    if body[0].strip() == "```":
        raise TmdlError(f"{where}:{i}: backtick expressions are outside the subset this reader knows")
    return "\n".join(body), i


def _body(node: Node, lines: list[str], i: int, depth: int, where: str) -> int:
    """Properties and child objects of ``node``, indented ``depth`` tabs."""
    description: list[str] = []
    while i < len(lines):
        at = f"{where}:{i + 1}"
        if not lines[i].strip():
            if description:
                raise TmdlError(f"{at}: a blank line between a description and its object")
            i += 1
            continue
        level, text = _indent(lines[i], at)
        if level < depth:
            break
        if level > depth:
            raise TmdlError(f"{at}: indented deeper than a property of {node.kind} {node.name}")
        if text.startswith("///"):
            description.append(text[3:].strip())
            i += 1
            continue
        if text.split(" ", 1)[0] in CHILD_KINDS and " " in text:
            child = _declaration(text, at)
            child.description = " ".join(description) or None
            description = []
            i = _object(child, lines, i + 1, depth, where)
            node.children.append(child)
            continue
        if description:
            raise TmdlError(f"{at}: a description must precede an object, not a property")
        prop = re.fullmatch(r"(\w+)(?:\s*:\s*(.*)|\s*=\s*(.*))?", text)
        if not prop:
            raise TmdlError(f"{at}: not a property: {text!r}")
        key, value, expression = prop.groups()
        if key in node.props or key in node.expressions:
            raise TmdlError(f"{at}: {key} declared twice")
        if expression == "":
            node.expressions[key], i = _expression(lines, i + 1, depth + 1, where)
            continue
        if expression is not None:
            node.expressions[key] = expression
        else:
            node.props[key] = "true" if value is None else value
        i += 1
        if value is None and expression is None and _next_level(lines, i, at) == depth + 1:
            # A property with properties of its own (Desktop writes 'dataAccessOptions' so on a model).
            block = Node(key, "", at)
            i = _body(block, lines, i, depth + 1, where)
            node.children.append(block)
    if description:
        raise TmdlError(f"{where}: a description with no object after it")
    return i


def _next_level(lines: list[str], i: int, where: str) -> int:
    """The indentation of the next non-blank line (-1 at the end)."""
    for line in lines[i:]:
        if line.strip():
            return _indent(line, where)[0]
    return -1


def _object(node: Node, lines: list[str], i: int, depth: int, where: str) -> int:
    """The rest of an object declared at ``depth`` on the line before ``i``."""
    if node.value == "":
        node.expressions[""], i = _expression(lines, i, depth + 2, where)
    elif node.value is not None:
        node.expressions[""] = node.value
    return _body(node, lines, i, depth + 1, where)


def read_tmdl(text: str, where: str) -> tuple[list[Node], list[tuple[str, str]]]:
    """The top-level objects of a TMDL document and its ``ref <kind> <name>`` lines."""
    lines = text.splitlines()
    nodes: list[Node] = []
    refs: list[tuple[str, str]] = []
    description: list[str] = []
    i = 0
    while i < len(lines):
        at = f"{where}:{i + 1}"
        if not lines[i].strip():
            if description:
                raise TmdlError(f"{at}: a blank line between a description and its object")
            i += 1
            continue
        level, text = _indent(lines[i], at)
        if level:
            raise TmdlError(f"{at}: indented line outside any object")
        if text.startswith("///"):
            description.append(text[3:].strip())
            i += 1
            continue
        if text.startswith("ref "):
            kind, _, rest = text[4:].partition(" ")
            name, tail = _split_name(rest, at)
            if tail or description:
                raise TmdlError(f"{at}: malformed ref")
            refs.append((kind, name))
            i += 1
            continue
        node = _declaration(text, at)
        node.description = " ".join(description) or None
        description = []
        i = _object(node, lines, i + 1, 0, where)
        nodes.append(node)
    if description:
        raise TmdlError(f"{where}: a description with no object after it")
    return nodes, refs


def column_ref(text: str) -> tuple[str, str]:
    """``table.column`` (either part may be quoted) as a pair."""
    part = r"('(?:[^']|'')+'|[^.'\s]+)"
    match = re.fullmatch(rf"{part}\.{part}", text.strip())
    if not match:
        raise TmdlError(f"not a column reference: {text!r}")
    table, column = (p[1:-1].replace("''", "'") if p.startswith("'") else p for p in match.groups())
    return table, column


@dataclass
class Model:
    tables: dict[str, Node]  # model table name -> its table object
    files: dict[str, list[Node]]  # tables/<stem>.tmdl -> the objects it declares
    model: Node
    refs: list[tuple[str, str]]
    relationships: list[Node]
    expressions: dict[str, Node]


def _read(path: Path) -> tuple[list[Node], list[tuple[str, str]]]:
    return read_tmdl(path.read_text(encoding="utf-8"), str(path.relative_to(BI)))


@cache
def load_model() -> Model:
    files = {path.stem: _read(path)[0] for path in sorted((DEFINITION / "tables").glob("*.tmdl"))}
    tables = {node.name: node for nodes in files.values() for node in nodes if node.kind == "table"}
    model_nodes, refs = _read(DEFINITION / "model.tmdl")
    [model] = [node for node in model_nodes if node.kind == "model"]
    relationships, _ = _read(DEFINITION / "relationships.tmdl")
    expressions, _ = _read(DEFINITION / "expressions.tmdl")
    return Model(
        tables=tables,
        files=files,
        model=model,
        refs=refs,
        relationships=relationships,
        expressions={e.name: e for e in expressions},
    )


def model_columns() -> list[tuple[str, Node]]:
    return [(name, column) for name, table in load_model().tables.items() for column in table.kids("column")]


def contract_field(table: str, column: str):
    return next((f for f in GOLD_TABLES[table].schema.fields if f.name == column), None)


# --- The reader itself -----------------------------------------------------------------------------------

SAMPLE = """/// Sales per day.
table sales

\t/// Sum of amount.
\tmeasure 'Sales EUR' =
\t\t\tSUM(sales[amount])
\t\tformatString: #,##0.00

\tcolumn amount
\t\tdataType: double
\t\tisHidden
\t\tsourceColumn: amount

\tpartition sales = m
\t\tmode: import
\t\tsource =
\t\t\tlet
\t\t\t\tSource = 1
\t\t\tin
\t\t\t\tSource
"""


def test_when_a_table_file_is_read_then_descriptions_properties_flags_and_expressions_land_on_their_objects():
    [table], refs = read_tmdl(SAMPLE, "sample")

    [measure], [column], [partition] = table.kids("measure"), table.kids("column"), table.kids("partition")
    assert (table.name, table.description, refs) == ("sales", "Sales per day.", [])
    assert (measure.name, measure.description) == ("Sales EUR", "Sum of amount.")
    assert (measure.expressions[""], measure.props) == ("SUM(sales[amount])", {"formatString": "#,##0.00"})
    assert column.props == {"dataType": "double", "isHidden": "true", "sourceColumn": "amount"}
    assert (partition.value, partition.props["mode"]) == ("m", "import")
    assert partition.expressions["source"] == "let\n\tSource = 1\nin\n\tSource"


DESKTOP_MODEL = """database
\tcompatibilityLevel: 1567

model Model
\tculture: en-US
\tdataAccessOptions
\t\tlegacyRedirects
\t\treturnErrorValuesAsNull

queryGroup Gold

annotation PBI_QueryOrder = ["sales"]

ref table sales
"""


def test_when_desktop_saves_its_own_additions_then_the_reader_still_reads_the_model():
    nodes, refs = read_tmdl(DESKTOP_MODEL, "desktop")

    assert [(n.kind, n.name) for n in nodes] == [
        ("database", ""),
        ("model", "Model"),
        ("queryGroup", "Gold"),
        ("annotation", "PBI_QueryOrder"),
    ]
    [options] = nodes[1].kids("dataAccessOptions")
    assert options.props == {"legacyRedirects": "true", "returnErrorValuesAsNull": "true"}
    assert refs == [("table", "sales")]


@pytest.mark.parametrize(
    ("broken", "error"),
    [
        (SAMPLE.replace("\t\tdataType: double", "    dataType: double"), "indentation must be tabs"),
        (SAMPLE.replace("\t\tisHidden", "\t\t\tisHidden"), "indented deeper"),
        (SAMPLE.replace("\tcolumn amount", "\tcolumn amount extra"), "unexpected"),
        (
            SAMPLE.replace("/// Sum of amount.\n", "/// Sum of amount.\n\n"),
            "blank line between a description",
        ),
    ],
)
def test_when_tmdl_strays_from_the_subset_then_the_reader_refuses_it(broken: str, error: str):
    with pytest.raises(TmdlError, match=error):
        read_tmdl(broken, "sample")


# --- Tables ----------------------------------------------------------------------------------------------


def test_when_the_model_declares_a_table_then_it_is_a_gold_table():
    unknown = sorted(set(load_model().tables) - set(GOLD_TABLES))

    assert not unknown, f"TMDL tables that are not gold tables: {unknown}"


def test_when_a_gold_table_is_not_in_the_model_then_it_is_excluded_with_a_reason():
    in_model = set(load_model().tables)

    missing = sorted(set(GOLD_TABLES) - in_model - set(EXCLUDED_TABLES))
    assert not missing, f"gold tables neither in the model nor in EXCLUDED_TABLES: {missing}"
    assert not in_model & set(EXCLUDED_TABLES), "a table is both in the model and excluded"
    assert set(EXCLUDED_TABLES) <= set(GOLD_TABLES), "EXCLUDED_TABLES names a table gold no longer has"
    assert all(reason.strip() for reason in EXCLUDED_TABLES.values())


def test_when_model_tmdl_refs_tables_then_they_are_exactly_the_table_files():
    model = load_model()

    for stem, nodes in model.files.items():
        assert [(n.kind, n.name) for n in nodes] == [("table", stem)], f"tables/{stem}.tmdl"
    table_refs = [name for kind, name in model.refs if kind == "table"]
    assert len(table_refs) == len(set(table_refs)), "a table is referenced twice"
    assert set(table_refs) == set(model.files), "model.tmdl's ref table lines and tables/*.tmdl differ"


def test_when_a_table_is_in_the_model_then_its_description_opens_with_the_contract_comment():
    for name, table in load_model().tables.items():
        assert (table.description or "").startswith(GOLD_TABLES[name].comment), name


# --- Columns ---------------------------------------------------------------------------------------------


def test_when_a_column_is_in_the_model_then_the_contract_has_it_with_the_same_type():
    for table, column in model_columns():
        spark_field = contract_field(table, column.name)
        assert spark_field is not None, f"{table}[{column.name}] is not in the gold contract"
        expected = TMDL_TYPES.get(type(spark_field.dataType))
        assert expected is not None, f"{table}[{column.name}]: Power BI cannot load {spark_field.dataType}"
        assert column.props.get("dataType") == expected, f"{table}[{column.name}]"


def test_when_a_column_is_in_the_model_then_its_source_column_is_its_name():
    for table, column in model_columns():
        assert column.props.get("sourceColumn") == column.name, f"{table}[{column.name}]"


def test_when_a_gold_column_is_not_in_the_model_then_it_is_excluded_with_a_reason():
    model = load_model()

    for name, table in model.tables.items():
        in_model = {c.name for c in table.kids("column")}
        for spark_field in GOLD_TABLES[name].schema.fields:
            if (name, spark_field.name) in EXCLUDED_COLUMNS:
                assert spark_field.name not in in_model, (
                    f"{name}[{spark_field.name}] is excluded yet modelled"
                )
            else:
                assert spark_field.name in in_model, f"{name}[{spark_field.name}] is missing from the model"
    for (name, column), reason in EXCLUDED_COLUMNS.items():
        assert contract_field(name, column) is not None, f"EXCLUDED_COLUMNS: gold has no {name}[{column}]"
        assert reason.strip()


def test_when_a_column_is_in_the_model_then_its_description_is_the_contract_comment():
    for table, column in model_columns():
        assert column.description == GOLD_TABLES[table].column_comments.get(column.name), (
            f"{table}[{column.name}]"
        )


def test_when_a_column_is_a_key_date_label_or_ratio_then_it_is_not_summed():
    for table, column in model_columns():
        summarize = column.props.get("summarizeBy")
        assert summarize in {"none", "sum"}, f"{table}[{column.name}] must say summarizeBy: none or sum"
        if summarize == "sum":
            comment = GOLD_TABLES[table].column_comments.get(column.name, "")
            assert column.props["dataType"] in {"int64", "double"}, f"{table}[{column.name}]"
            assert table != DATE_TABLE, f"{table}[{column.name}]: date table attributes are not summed"
            assert "ratio" not in comment, f"{table}[{column.name}] is a ratio"
            assert not column.name.endswith("_id"), f"{table}[{column.name}] is a key"


def test_when_a_column_sorts_by_another_then_that_column_is_in_the_same_table():
    for table, column in model_columns():
        if "sortByColumn" in column.props:
            names = {c.name for c in load_model().tables[table].kids("column")}
            assert column.props["sortByColumn"] in names, f"{table}[{column.name}]"


# --- Partitions and parameters ---------------------------------------------------------------------------


def test_when_a_table_is_loaded_then_its_partition_reads_its_gold_table_and_selects_the_model_columns():
    for name, table in load_model().tables.items():
        [partition] = table.kids("partition")
        source = re.sub(r"\s+", "", partition.expressions.get("source", ""))  # M's spacing is free
        assert partition.value == "m", name
        # Import by default; docs/power-bi.md says when a fact table is better in DirectQuery.
        assert partition.props.get("mode") in {"import", "directQuery", "dual"}, name
        assert "Databricks.Catalogs(DatabricksHost,DatabricksHttpPath," in source, name
        assert '[Name=DatabricksCatalog,Kind="Database"]' in source, name
        assert '[Name="gold",Kind="Schema"]' in source, name
        assert f'[Name="{name}",Kind="Table"]' in source, name
        selected = re.search(r"Table\.SelectColumns\(\w+,\{([^}]*)\}\)", source)
        assert selected, f"{name}: the partition must pick its columns with Table.SelectColumns"
        picked = re.findall(r'"([^"]+)"', selected.group(1))
        assert sorted(picked) == sorted(c.props["sourceColumn"] for c in table.kids("column")), name


def test_when_partitions_use_parameters_then_expressions_tmdl_declares_them_as_text_parameters():
    expressions = load_model().expressions

    assert set(expressions) == PARAMETERS
    for name, expression in expressions.items():
        text = expression.expressions[""]
        assert re.fullmatch(r'"[^"]*" meta \[IsParameterQuery = true, Type = "Text", .*\]', text), name
        assert expression.description, f"{name} needs a description"


def test_when_parameters_are_declared_then_none_holds_a_secret():
    for name, expression in load_model().expressions.items():
        text = expression.expressions[""].lower()
        assert not re.search(r"dapi[0-9a-f]{16,}|token|password|secret|pwd=", text), name


# --- Date table and relationships ------------------------------------------------------------------------


def test_when_the_date_table_is_marked_then_it_is_dim_date_keyed_on_date_and_filtered_to_one_zone():
    model = load_model()

    marked = [name for name, table in model.tables.items() if table.props.get("dataCategory") == "Time"]
    assert marked == [DATE_TABLE]
    keys = [c.name for c in model.tables[DATE_TABLE].kids("column") if c.props.get("isKey") == "true"]
    assert keys == [DATE_KEY]
    [partition] = model.tables[DATE_TABLE].kids("partition")
    source = re.sub(r"\s+", " ", partition.expressions["source"])
    assert re.search(r"Table\.SelectRows\(\w+, ?each ?\[timezone\] ?= ?Timezone\)", source)


def test_when_a_relationship_is_declared_then_its_columns_exist_and_it_points_at_a_dimension_key():
    model = load_model()

    assert model.relationships, "no relationships"
    for relationship in model.relationships:
        from_table, from_column = column_ref(relationship.props["fromColumn"])
        to_table, to_column = column_ref(relationship.props["toColumn"])
        assert from_column in {c.name for c in model.tables[from_table].kids("column")}, relationship.name
        if (to_table, to_column) != (DATE_TABLE, DATE_KEY):
            # Any other relationship ends on a dimension's primary key, so the "one" side is unique.
            assert GOLD_TABLES[to_table].primary_key == (to_column,), relationship.name
            keys = [c.name for c in model.tables[to_table].kids("column") if c.props.get("isKey") == "true"]
            assert keys == [to_column], relationship.name


def test_when_a_model_table_declares_a_foreign_key_to_a_model_table_then_the_model_relates_them():
    model = load_model()
    related = {
        (*column_ref(r.props["fromColumn"]), column_ref(r.props["toColumn"])[0]) for r in model.relationships
    }

    declared = {
        (table, column, target)
        for table in model.tables
        for column, target in GOLD_TABLES[table].foreign_keys.items()
        if target in model.tables
    }
    assert declared, "no foreign key between model tables"
    assert declared <= related, f"foreign keys without a relationship: {sorted(declared - related)}"


def test_when_a_relationship_is_declared_then_it_is_many_to_one_single_direction_and_active():
    names = [r.name for r in load_model().relationships]
    assert len(names) == len(set(names)), "relationship names repeat"
    for relationship in load_model().relationships:
        props = relationship.props
        assert props.get("fromCardinality", "many") == "many", relationship.name
        assert props.get("toCardinality", "one") == "one", relationship.name
        assert props.get("crossFilteringBehavior", "oneDirection") == "oneDirection", relationship.name
        assert props.get("isActive", "true") == "true", relationship.name


def test_when_a_table_has_a_date_then_it_is_related_to_the_date_table_unless_stated_why_not():
    model = load_model()
    related = {column_ref(r.props["fromColumn"])[0] for r in model.relationships}

    for name, table in model.tables.items():
        if name == DATE_TABLE or DATE_KEY not in {c.name for c in table.kids("column")}:
            continue
        if name in UNRELATED_TABLES:
            assert name not in related, f"{name} is in UNRELATED_TABLES yet related"
        else:
            assert name in related, f"{name}[{DATE_KEY}] is not related to {DATE_TABLE}[{DATE_KEY}]"
    assert set(UNRELATED_TABLES) <= set(model.tables)


# --- Measures --------------------------------------------------------------------------------------------

QUALIFIED = re.compile(r"'((?:[^']|'')+)'\[([^\]]+)\]|\b([A-Za-z_]\w*)\[([^\]]+)\]")
BRACKETED = re.compile(r"\[([^\]]+)\]")


def test_when_a_measure_references_a_column_then_the_model_has_it():
    model = load_model()
    columns = {(t, c.name) for t, table in model.tables.items() for c in table.kids("column")}
    measures = {m.name for table in model.tables.values() for m in table.kids("measure")}

    assert measures, "the model has no measures"
    for table in model.tables.values():
        for measure in table.kids("measure"):
            dax = re.sub(r'"(?:[^"]|"")*"', '""', measure.expressions[""])  # string literals hold no refs
            for quoted, quoted_column, bare, bare_column in QUALIFIED.findall(dax):
                ref = (quoted.replace("''", "'"), quoted_column) if quoted else (bare, bare_column)
                assert ref in columns, f"measure {measure.name!r}: {ref[0]}[{ref[1]}] is not in the model"
            for match in BRACKETED.finditer(dax):
                before = dax[match.start() - 1] if match.start() else " "
                if before == "'" or before.isalnum() or before == "_":
                    continue  # a table-qualified column, checked above
                ref = match.group(1)
                assert ref in measures or ref.startswith("@"), f"measure {measure.name!r}: unknown [{ref}]"


def test_when_a_measure_is_declared_then_it_has_a_format_and_a_description():
    for name, table in load_model().tables.items():
        for measure in table.kids("measure"):
            assert measure.props.get("formatString"), f"{name}: {measure.name}"
            assert measure.description, f"{name}: {measure.name}"


def test_when_a_measure_is_named_then_no_other_measure_or_column_has_that_name():
    model = load_model()
    columns = {c.name.lower() for table in model.tables.values() for c in table.kids("column")}
    measures = [m.name.lower() for table in model.tables.values() for m in table.kids("measure")]

    assert len(measures) == len(set(measures)), "measure names repeat"
    assert not set(measures) & columns, "a measure has a column's name"


# --- The project files -----------------------------------------------------------------------------------


def test_when_power_bi_opens_the_project_then_the_report_points_at_the_tmdl_semantic_model():
    pbip = json.loads((BI / "Lakewatt.pbip").read_text(encoding="utf-8"))
    [artifact] = pbip["artifacts"]
    report = BI / artifact["report"]["path"]
    pbir = json.loads((report / "definition.pbir").read_text(encoding="utf-8"))
    pbism = json.loads((SEMANTIC_MODEL / "definition.pbism").read_text(encoding="utf-8"))

    assert (report / pbir["datasetReference"]["byPath"]["path"]).resolve() == SEMANTIC_MODEL.resolve()
    # definition.pbism 3.0 is the first version with a TMDL definition/ folder instead of model.bim.
    assert float(pbism["version"]) >= 3.0
    assert not (SEMANTIC_MODEL / "model.bim").exists()
    for name in ("database.tmdl", "model.tmdl", "expressions.tmdl", "relationships.tmdl"):
        assert (DEFINITION / name).is_file(), name


def test_when_the_report_lists_pages_then_each_has_its_page_definition():
    definition = BI / "Lakewatt.Report" / "definition"
    pages = json.loads((definition / "pages" / "pages.json").read_text(encoding="utf-8"))

    assert (definition / "version.json").is_file()
    assert (definition / "report.json").is_file()
    assert pages["activePageName"] in pages["pageOrder"]
    for page in pages["pageOrder"]:
        assert (
            json.loads((definition / "pages" / page / "page.json").read_text(encoding="utf-8"))["name"]
            == page
        )
