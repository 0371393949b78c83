#!/bin/sh
# azd postdeploy hook: create (or update) the Event Grid subscription bronze/landing -> bronzeBlobCreated.
# It cannot be part of `azd provision`: the webhook URL needs the host's eventgrid_extension system key, which
# exists only once the deployed code's Event Grid trigger has loaded, and Event Grid validates the endpoint
# when the subscription is created. The key itself is read by ARM (listKeys in the template), never here.
set -eu
. "$(dirname "$0")/azd-lib.sh"

require_env AZURE_RESOURCE_GROUP AZURE_FUNCTION_APP_NAME EVENTGRID_SYSTEM_TOPIC_NAME LAKE_STORAGE_ACCOUNT \
  LAKE_DEADLETTER_CONTAINER
root=$(cd "$(dirname "$0")/.." && pwd)

# Wait until the host has created the key (only its presence is queried, not its value).
attempt=0
until [ "$(az functionapp keys list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" \
  --query 'systemKeys.eventgrid_extension != `null`' -o tsv 2>/dev/null || true)" = "true" ]; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 30 ] || die "the eventgrid_extension key never appeared; is bronzeBlobCreated deployed? (az functionapp function list)"
  log "waiting for the Functions host to create the eventgrid_extension key ($attempt/30)"
  # A request to the host makes it start and load the extensions.
  az functionapp function list -g "$AZURE_RESOURCE_GROUP" -n "$AZURE_FUNCTION_APP_NAME" -o none 2>/dev/null || true
  sleep 10
done

az deployment group create \
  --resource-group "$AZURE_RESOURCE_GROUP" \
  --name lakewatt-eventgrid-subscription \
  --template-file "$root/infra/eventgrid-subscription.bicep" \
  --parameters \
  systemTopicName="$EVENTGRID_SYSTEM_TOPIC_NAME" \
  functionAppName="$AZURE_FUNCTION_APP_NAME" \
  deadLetterAccountName="$LAKE_STORAGE_ACCOUNT" \
  deadLetterContainerName="$LAKE_DEADLETTER_CONTAINER" \
  --query properties.outputs.subscriptionName.value -o tsv
log 'Event Grid subscription in place: bronze/landing BlobCreated -> bronzeBlobCreated'
