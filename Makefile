# The two commands: `make demo` and `make test`. Each sets up what it needs on a fresh machine
# (npm ci, the Python venv with the pinned Spark/Delta set, the Delta jars, the build) and skips
# what is already done, so a second run starts in seconds.

SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_STAMP := node_modules/.lakewatt-stamp
BUILD_STAMP := dist/.lakewatt-build-stamp
TS_SOURCES := $(shell find functions orchestrations lib local -name '*.ts' 2>/dev/null)
CONSOLE_SOURCES := $(shell find console -type f 2>/dev/null)

.PHONY: help demo test setup setup-node setup-python setup-browser build contracts lint test-node test-python format clean \
	bench bench-validation bench-durable bench-jobs bench-spark bench-e2e

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

demo: setup-node setup-python build ## the pipeline end to end on the embedded default: simulate, drop, ingest, Spark, audit, summary
	./bin/lakewatt demo

test: setup build lint test-node test-python ## run every test (jest and pytest) and the linters

setup: setup-node setup-python setup-browser ## install everything the project needs

setup-node: $(NODE_STAMP)
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

setup-python: ## Python venv with pinned pyspark/delta-spark, and the Delta jars
	@bash scripts/setup-python.sh

build: $(BUILD_STAMP) ## compile TypeScript to dist/ and bundle the console (dist/console)
$(BUILD_STAMP): $(NODE_STAMP) $(TS_SOURCES) $(CONSOLE_SOURCES) tsconfig.json tsconfig.build.json
	npm run build --silent
	@touch $@

contracts: build ## regenerate the dataset contracts the Spark jobs load
	./bin/lakewatt export-schemas

lint: setup-node ## typecheck, lint and format check (TypeScript)
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p console/tsconfig.json
	npx eslint . --max-warnings 0
	npx prettier . --check --log-level warn

test-node: setup-node build ## jest: unit and integration suites (starts Azurite itself)
	npx jest --ci

setup-browser: ## Debian's chromium for the console's browser tests (apt-get, once)
	@bash scripts/setup-browser.sh

test-python: setup-python ## ruff and pytest on local Spark + Delta
	@bash scripts/test-python.sh

format: setup-node ## apply the formatters
	npx prettier . --write --log-level warn
	npx eslint . --fix

bench: bench-validation bench-durable bench-jobs bench-spark bench-e2e ## every benchmark (slow; see bench/README.md)

bench-validation: setup-node ## validation engine vs DuckDB (1M, 10M, 2 GB) and Parquet writers
	npx tsc -p bench/validation/tsconfig.json
	node .lakewatt/bench-build/bench/validation/run.js
	node .lakewatt/bench-build/bench/validation/writers.js

bench-durable: setup-node ## local durable host: activity steps/s and per-step overhead
	npx tsc -p bench/durable/tsconfig.json
	node bench/out/build/bench/durable/run.js --instances 300

bench-jobs: setup ## Jobs API emulator: run-now to first line and to TERMINATED, warm and cold
	npx tsc -p bench/jobs/tsconfig.json
	node bench/out/build/bench/jobs/run.js

bench-spark: setup ## Spark silver + gold vs DuckDB over the same staged Parquet
	.venv/bin/python bench/spark/run.py

# Defaults: --reps 5 --default-reps 2 --burst 10 (~20 min at load 5); e.g. BENCH_E2E_ARGS='--burst 100' (see bench/README.md)
bench-e2e: setup ## whole pipeline: drop -> gold latency, a burst of files, vs the same work without orchestration
	npx tsc -p bench/e2e/tsconfig.json
	node bench/out/build/bench/e2e/run.js $(BENCH_E2E_ARGS)

clean: ## remove build output and local state (keeps node_modules and .venv)
	rm -rf dist .lakewatt coverage
