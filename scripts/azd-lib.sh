#!/bin/sh
# Shared helpers for the azd hooks (sourced, not run). POSIX sh: azd runs hooks with `sh`.

log() { printf '[lakewatt] %s\n' "$*" >&2; }
die() { printf '[lakewatt] ERROR: %s\n' "$*" >&2; exit 1; }

# require_env NAME...: every named variable (azd environment values and Bicep outputs) must be set.
require_env() {
  for name in "$@"; do
    eval "value=\${$name:-}"
    [ -n "$value" ] || die "$name is not set; run 'azd provision' first (or 'azd env get-values' to check)"
  done
}

# require_tool NAME HINT: the command must be on PATH.
require_tool() {
  command -v "$1" >/dev/null 2>&1 || die "$1 not found: $2"
}

# azd_env_set NAME VALUE: persist a value in the azd environment so the next `azd provision` keeps it.
azd_env_set() {
  azd env set "$1" "$2" >/dev/null
}
