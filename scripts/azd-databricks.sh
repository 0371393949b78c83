#!/bin/sh
# Databricks side of a Lakewatt deployment. Run by the postprovision hook, and on its own to roll out a new
# job version (`azd env get-values` exported, see docs/deploy.md). Every step is idempotent.
#  1. Register the Function's managed identity, and the jobs' run_as identity, in the workspace as service
#     principals (by client id).
#  2. Unity Catalog: storage credential (the access connector), external locations, the catalog.
#  3. Key Vault-backed secret scope `lakewatt` (the PII hashing key).
#  4. `databricks bundle deploy -t prod` with the infrastructure's values as bundle variables.
#  5. Look up the deployed job ids by name, grant the Function CAN_MANAGE_RUN on them, and record the ids in
#     the azd environment (kept by the next `azd provision`) and in the Function's app settings (now).
set -eu
. "$(dirname "$0")/azd-lib.sh"

require_env AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME AZURE_FUNCTION_IDENTITY_CLIENT_ID DATABRICKS_HOST \
  AZURE_DATABRICKS_JOBS_IDENTITY_CLIENT_ID \
  DATABRICKS_ACCESS_CONNECTOR_ID LAKE_STORAGE_ACCOUNT LAKE_SILVER_STORAGE_ACCOUNT LAKE_GOLD_STORAGE_ACCOUNT \
  LAKEWATT_CATALOG DATABRICKS_SILVER_JOB_NAME DATABRICKS_GOLD_JOB_NAME AZURE_DATABRICKS_KEY_VAULT_ID \
  AZURE_DATABRICKS_KEY_VAULT_URI
require_tool databricks 'install the Databricks CLI >= 0.250'
require_tool node 'install Node.js 22'

root=$(cd "$(dirname "$0")/.." && pwd)
# The deploying user's Azure CLI sign-in; no personal access token is created or stored.
export DATABRICKS_HOST
export DATABRICKS_AUTH_TYPE=azure-cli

# json_get EXPR: evaluates a JavaScript expression over the JSON on stdin (`d`), prints the result or nothing.
json_get() {
  node -e '
    let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
      const d = s.trim() ? JSON.parse(s) : {};
      const v = (new Function("d", "return (" + process.argv[1] + ")"))(d);
      if (v !== undefined && v !== null) process.stdout.write(String(v));
    });' "$1"
}

# ---- 1. The Function identity and the jobs identity as workspace service principals (no entitlements beyond
# the default).
# register_sp APPLICATION_ID DISPLAY_NAME
register_sp() {
  existing=$(databricks service-principals list --filter "applicationId eq $1" -o json |
    json_get 'Array.isArray(d) && d.length ? d[0].id : ""')
  if [ -n "$existing" ]; then
    log "$2 already a workspace service principal ($existing)"
  else
    databricks service-principals create --json \
      "{\"application_id\":\"$1\",\"display_name\":\"$2\",\"active\":true}" >/dev/null
    log "$2 registered as a workspace service principal"
  fi
}
fn_app_id=$AZURE_FUNCTION_IDENTITY_CLIENT_ID
jobs_app_id=$AZURE_DATABRICKS_JOBS_IDENTITY_CLIENT_ID
register_sp "$fn_app_id" "$AZURE_FUNCTION_APP_NAME"
register_sp "$jobs_app_id" "lakewatt-jobs"

# ---- 2. Unity Catalog storage access through the access connector.
credential=lakewatt-lake
if ! databricks storage-credentials get "$credential" >/dev/null 2>&1; then
  databricks storage-credentials create --json \
    "{\"name\":\"$credential\",\"azure_managed_identity\":{\"access_connector_id\":\"$DATABRICKS_ACCESS_CONNECTOR_ID\"},\"comment\":\"Lakewatt lake (access connector)\"}" >/dev/null
  log "storage credential $credential created"
fi

# external_location NAME URL READ_ONLY SKIP_VALIDATION
external_location() {
  if databricks external-locations get "$1" >/dev/null 2>&1; then return 0; fi
  databricks external-locations create --json \
    "{\"name\":\"$1\",\"url\":\"$2\",\"credential_name\":\"$credential\",\"read_only\":$3,\"skip_validation\":$4}" >/dev/null
  log "external location $1 -> $2"
}
dfs() { printf 'abfss://%s@%s.dfs.core.windows.net/' "$1" "$2"; }
external_location lakewatt-bronze "$(dfs bronze "$LAKE_STORAGE_ACCOUNT")" true false
external_location lakewatt-staging "$(dfs staging "$LAKE_STORAGE_ACCOUNT")" true false
external_location lakewatt-silver "$(dfs silver "$LAKE_SILVER_STORAGE_ACCOUNT")" false false
external_location lakewatt-gold "$(dfs gold "$LAKE_GOLD_STORAGE_ACCOUNT")" false false
# The connector may only write under job-runs/ in audit (and never delete), so the usual write+delete
# validation would fail by design.
external_location lakewatt-job-runs "$(dfs audit "$LAKE_STORAGE_ACCOUNT")job-runs/" false true

if ! databricks catalogs get "$LAKEWATT_CATALOG" >/dev/null 2>&1; then
  databricks catalogs create "$LAKEWATT_CATALOG" --storage-root "$(dfs silver "$LAKE_SILVER_STORAGE_ACCOUNT")_catalog" \
    --comment 'Lakewatt bronze, silver and gold' >/dev/null
  log "catalog $LAKEWATT_CATALOG created"
fi

# The jobs' run_as principal: the catalog (its schemas and tables) and the lake locations, nothing else.
databricks grants update catalog "$LAKEWATT_CATALOG" --json \
  "{\"changes\":[{\"principal\":\"$jobs_app_id\",\"add\":[\"USE_CATALOG\",\"USE_SCHEMA\",\"CREATE_SCHEMA\",\"CREATE_TABLE\",\"SELECT\",\"MODIFY\"]}]}" >/dev/null
for location in lakewatt-bronze lakewatt-staging; do
  databricks grants update external_location "$location" --json \
    "{\"changes\":[{\"principal\":\"$jobs_app_id\",\"add\":[\"READ_FILES\"]}]}" >/dev/null
done
for location in lakewatt-silver lakewatt-gold lakewatt-job-runs; do
  databricks grants update external_location "$location" --json \
    "{\"changes\":[{\"principal\":\"$jobs_app_id\",\"add\":[\"READ_FILES\",\"WRITE_FILES\",\"CREATE_EXTERNAL_TABLE\"]}]}" >/dev/null
done
log "jobs identity granted the catalog $LAKEWATT_CATALOG and the lake locations"

# ---- 3. Key Vault-backed secret scope (needs an Entra ID user sign-in, which azure-cli auth is).
if databricks secrets list-scopes -o json | json_get 'JSON.stringify(d)' | grep -q '"name":"lakewatt"'; then
  log 'secret scope lakewatt exists'
else
  databricks secrets create-scope --json \
    "{\"scope\":\"lakewatt\",\"scope_backend_type\":\"AZURE_KEYVAULT\",\"backend_azure_keyvault\":{\"resource_id\":\"$AZURE_DATABRICKS_KEY_VAULT_ID\",\"dns_name\":\"$AZURE_DATABRICKS_KEY_VAULT_URI\"}}" ||
    log 'could not create the Key Vault-backed scope lakewatt; see docs/deploy.md (secret scope)'
fi
# The jobs read the PII key from the scope as their run_as principal.
databricks secrets put-acl lakewatt "$jobs_app_id" READ ||
  log "could not grant $jobs_app_id READ on the secret scope lakewatt"

# ---- 4. Bundle deploy. Only the variables databricks.yml declares are passed, so the bundle and this hook
# can evolve separately.
[ -f "$root/databricks/databricks.yml" ] || die "databricks/databricks.yml not found"
declared=$(cd "$root" && node -e '
  const y = require("yaml");
  const doc = y.parse(require("node:fs").readFileSync("databricks/databricks.yml", "utf8")) || {};
  process.stdout.write(Object.keys(doc.variables || {}).join(" "));')

set -- deploy -t prod
for pair in \
  "catalog=$LAKEWATT_CATALOG" \
  "storage_account=$LAKE_STORAGE_ACCOUNT" \
  "silver_storage_account=$LAKE_SILVER_STORAGE_ACCOUNT" \
  "gold_storage_account=$LAKE_GOLD_STORAGE_ACCOUNT" \
  "access_connector_id=$DATABRICKS_ACCESS_CONNECTOR_ID" \
  "bronze_root=$(dfs bronze "$LAKE_STORAGE_ACCOUNT")" \
  "staging_root=$(dfs staging "$LAKE_STORAGE_ACCOUNT")" \
  "silver_root=$(dfs silver "$LAKE_SILVER_STORAGE_ACCOUNT")" \
  "gold_root=$(dfs gold "$LAKE_GOLD_STORAGE_ACCOUNT")" \
  "audit_root=$(dfs audit "$LAKE_STORAGE_ACCOUNT")" \
  "secret_scope=lakewatt" \
  "pii_secret_scope=lakewatt" \
  "pii_secret_key=${PII_HASH_KEY_SECRET_NAME:-pii-hash-key}" \
  "function_service_principal=$fn_app_id" \
  "jobs_service_principal=$jobs_app_id"; do
  name=${pair%%=*}
  case " $declared " in
  *" $name "*) set -- "$@" --var="$pair" ;;
  esac
done
for name in $declared; do
  case "$*" in
  *"--var=$name="*) ;;
  *) log "bundle variable $name not set by this hook (its default in databricks.yml applies)" ;;
  esac
done
log "databricks bundle $*"
(cd "$root/databricks" && databricks bundle "$@")

# ---- 5. Job ids by name, CAN_MANAGE_RUN for the Function, ids recorded.
summary=$(cd "$root/databricks" && databricks bundle summary -t prod -o json)
job_id() {
  printf '%s' "$summary" | json_get "Object.values((d.resources && d.resources.jobs) || {}).filter((j) => j.name === '$1').map((j) => j.id)[0]"
}
silver_id=$(job_id "$DATABRICKS_SILVER_JOB_NAME")
gold_id=$(job_id "$DATABRICKS_GOLD_JOB_NAME")
[ -n "$silver_id" ] || die "bundle has no job named $DATABRICKS_SILVER_JOB_NAME"
[ -n "$gold_id" ] || die "bundle has no job named $DATABRICKS_GOLD_JOB_NAME"

for id in "$silver_id" "$gold_id"; do
  # PATCH semantics: adds this grant, keeps the bundle's own permissions.
  databricks jobs update-permissions "$id" --json \
    "{\"access_control_list\":[{\"service_principal_name\":\"$fn_app_id\",\"permission_level\":\"CAN_MANAGE_RUN\"}]}" >/dev/null
done
log "Function identity may run jobs $silver_id (silver) and $gold_id (gold)"

azd_env_set DATABRICKS_SILVER_JOB_ID "$silver_id"
azd_env_set DATABRICKS_GOLD_JOB_ID "$gold_id"
az functionapp config appsettings set -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
  --settings "DATABRICKS_SILVER_JOB_ID=$silver_id" "DATABRICKS_GOLD_JOB_ID=$gold_id" -o none
log 'job ids recorded in the azd environment and the Function app settings'
