#!/bin/sh
# azd preprovision hook: fail early, before anything is created, if a tool or a sign-in is missing.
set -eu
. "$(dirname "$0")/azd-lib.sh"

require_tool az 'install the Azure CLI (https://aka.ms/azure-cli)'
require_tool databricks 'install the Databricks CLI >= 0.250 (https://docs.databricks.com/dev-tools/cli/install.html)'
require_tool node 'install Node.js 22'

az account show --query id -o tsv >/dev/null 2>&1 || die "run 'az login' (the hooks use the Azure CLI sign-in)"

# The operator API's app registration: Entra ID authentication in front of the API needs its client id,
# and Bicep cannot create app registrations (docs/deploy.md, Prerequisites).
case "${LAKEWATT_API_CLIENT_ID:-}" in
????????-????-????-????-????????????) ;;
*) die "set LAKEWATT_API_CLIENT_ID to the client id of the operator API's app registration (docs/deploy.md, Prerequisites)" ;;
esac

if [ "${AZURE_PRINCIPAL_TYPE:-User}" = "User" ] && [ -z "${AZURE_DATABRICKS_APP_OBJECT_ID:-}" ]; then
  # The AzureDatabricks first-party application: its service principal reads the PII key for the
  # Key Vault-backed secret scope. Its object id differs per tenant.
  id=$(az ad sp show --id 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --query id -o tsv 2>/dev/null || true)
  if [ -n "$id" ]; then
    azd_env_set AZURE_DATABRICKS_APP_OBJECT_ID "$id"
    log "AzureDatabricks service principal: $id"
  else
    log "could not look up the AzureDatabricks service principal; set AZURE_DATABRICKS_APP_OBJECT_ID (docs/deploy.md)"
  fi
fi
log 'tools and sign-in OK'
