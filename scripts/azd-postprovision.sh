#!/bin/sh
# azd postprovision hook: secrets that must never sit in a file, then the Databricks side (azd-databricks.sh).
set -eu
. "$(dirname "$0")/azd-lib.sh"

require_env AZURE_DATABRICKS_KEY_VAULT_NAME PII_HASH_KEY_SECRET_NAME
vault=$AZURE_DATABRICKS_KEY_VAULT_NAME
secret=$PII_HASH_KEY_SECRET_NAME

# Present or absent? A fresh role assignment can take minutes to apply, and a 403 must not be mistaken for
# "absent": that would overwrite the key.
attempt=0
while :; do
  if out=$(az keyvault secret show --vault-name "$vault" --name "$secret" --query id -o tsv 2>&1); then
    state=present
    break
  fi
  case "$out" in
  *SecretNotFound* | *"was not found"*)
    state=absent
    break
    ;;
  esac
  attempt=$((attempt + 1))
  [ "$attempt" -lt 20 ] || die "cannot read Key Vault $vault: $out"
  log "waiting for the Key Vault role assignment to apply ($attempt/20)"
  sleep 15
done

# The PII hashing key is generated once, inside this process, and goes straight to Key Vault. A re-run never
# rotates it: a new key would change every masked value in silver (rotation: docs/deploy.md).
if [ "$state" = present ]; then
  log "PII hashing key already in $vault"
else
  umask 077
  keyfile=$(mktemp)
  trap 'rm -f "$keyfile"' EXIT INT TERM
  node -e "process.stdout.write(require('node:crypto').randomBytes(48).toString('base64'))" >"$keyfile"
  az keyvault secret set --vault-name "$vault" --name "$secret" --file "$keyfile" --encoding utf-8 \
    --content-type text/plain --query id -o tsv >/dev/null
  rm -f "$keyfile"
  log "PII hashing key created in $vault"
fi

"$(dirname "$0")/azd-databricks.sh"
