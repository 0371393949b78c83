#!/usr/bin/env bash
# Lints and tests the Python/Databricks side with the .venv made by scripts/setup-python.sh:
# ruff check, ruff format --check, then pytest (a run that collects no test fails too).
# Extra arguments go to pytest, e.g. scripts/test-python.sh -k delta
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
cd "$ROOT"

fail() {
  printf 'test-python: FAILED: %s\n' "$*" >&2
  exit 1
}

[ -x "$VENV/bin/python" ] || fail ".venv is missing; run make setup (or scripts/setup-python.sh)"
export LAKEWATT_DELTA_JARS="${LAKEWATT_DELTA_JARS:-$ROOT/.tools/jars}"
ls "$LAKEWATT_DELTA_JARS"/delta-spark_*.jar >/dev/null 2>&1 ||
  fail "no Delta jars in $LAKEWATT_DELTA_JARS; run make setup (or scripts/setup-python.sh)"
export TZ=UTC
# No PYSPARK_PYTHON from here: lakewatt.spark sets it for Spark's Python workers, as in the Jobs emulator.
# A session must take Delta from the local jars only: nothing may ask Spark to resolve packages.
unset PYSPARK_PYTHON PYSPARK_DRIVER_PYTHON PYSPARK_SUBMIT_ARGS SPARK_HOME

# bench/ruff.toml extends databricks/pyproject.toml: the benchmarks' scripts follow the same style.
echo "test-python: ruff check databricks bench"
"$VENV/bin/ruff" check databricks bench ||
  fail "ruff check found problems (fix them or run .venv/bin/ruff check --fix databricks bench)"
echo "test-python: ruff format --check databricks bench"
"$VENV/bin/ruff" format --check databricks bench ||
  fail "files need formatting (run .venv/bin/ruff format databricks bench)"

echo "test-python: pytest databricks/tests"
status=0
"$VENV/bin/python" -m pytest databricks/tests -q -p no:cacheprovider "$@" || status=$?
case "$status" in
  0) ;;
  5) fail "pytest collected no tests" ;;
  *) fail "pytest exited with status $status" ;;
esac
