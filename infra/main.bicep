// Lakewatt platform: one resource group with the lake, Event Grid, the Function App, Databricks, Key Vaults,
// monitoring, and the least-privilege grants between them. Deployed by `azd provision`; see docs/deploy.md.
// The Event Grid subscription is deployed later (azd postdeploy hook, infra/eventgrid-subscription.bicep).

targetScope = 'subscription'

import { sourceWriter } from 'modules/lake-access.bicep'

// ---- azd environment

@minLength(1)
@maxLength(64)
@description('azd environment name; part of every resource name.')
param environmentName string

@minLength(1)
@description('Azure region for every resource.')
param location string

@description('Object id of the deploying principal (azd sets AZURE_PRINCIPAL_ID); it may set Key Vault secrets.')
param principalId string = ''

@description('Type of the deploying principal.')
@allowed(['User', 'ServicePrincipal', 'Group'])
param principalType string = 'User'

@description('Resource group name; empty derives rg-<environmentName>.')
param resourceGroupName string = ''

// ---- Lake

@description('Put silver and gold in their own storage accounts (physical separation of the layers).')
param separateLayerAccounts bool = false

@description('Lake replication. ZRS or GZRS is recommended in production where the region offers it.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGRS', 'Standard_RAGZRS'])
param lakeSkuName string = 'Standard_LRS'

@description('Public network access to the lake. Disable only with private endpoints and VNet integration.')
@allowed(['Enabled', 'Disabled'])
param lakePublicNetworkAccess string = 'Enabled'

@description('Days a deleted lake file can be restored.')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int = 14

@description('Days a deleted lake container can be restored.')
@minValue(1)
@maxValue(365)
param containerSoftDeleteDays int = 14

@description('Days after which staged canonical files are deleted.')
@minValue(1)
param stagingRetentionDays int = 14

@description('Days after which quarantined files are deleted.')
@minValue(1)
param quarantineRetentionDays int = 90

@description('Days after which Event Grid dead-letter blobs are deleted.')
@minValue(1)
param deadLetterRetentionDays int = 30

@description('Days after last modification at which bronze files move to the cool tier.')
@minValue(1)
param bronzeCoolAfterDays int = 30

@description('Days after last modification at which bronze files move to the cold tier; 0 keeps them cool.')
@minValue(0)
param bronzeColdAfterDays int = 180

@description('Object id of the Entra ID group of analysts who read gold; empty for none.')
param analystsGroupObjectId string = ''

@description('Source systems that drop files into bronze, one identity each, each limited to landing/<dataset>/<source>/ (see docs/security/identities-and-api.md).')
param sourceWriters sourceWriter[] = []

@description('Client id of the Entra ID app registration that protects the operator API (create it first: docs/deploy.md).')
param apiAuthClientId string

@description('Days an audit record is kept immutable (no overwrite, no delete) by the audit container\'s retention policy.')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int = 2557

// ---- Monitoring

@description('Days Log Analytics keeps logs (storage access logs are audit evidence).')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 90

@description('Daily Log Analytics ingestion cap in GB; -1 for none. A cap also stops audit logging for the day.')
param logDailyQuotaGb int = -1

@description('Resource id of the action group the pipeline alerts notify (e.g. the on-call team\'s); empty: portal only.')
param alertActionGroupId string = ''

@description('Share of file traces sent to Application Insights, 0-100 (whole traces; events are never sampled).')
@minValue(0)
@maxValue(100)
param telemetrySamplingPercentage int = 100

@description('Rejected rows of a source in an hour, in percent of its rows read, above which its alert fires.')
@minValue(1)
@maxValue(100)
param rejectedSharePercentThreshold int = 5

@description('95th percentile of a Databricks job\'s run duration over an hour, in minutes, above which the alert fires.')
@minValue(1)
param databricksRunP95Minutes int = 30

@description('Failed attempts of one activity in 15 minutes above which the activity-failures alert fires.')
@minValue(0)
param activityFailureThreshold int = 3

// ---- Function App

@description('Most Function instances (Flex Consumption scale-out limit and cost ceiling).')
@minValue(1)
@maxValue(1000)
param functionMaximumInstanceCount int = 40

@description('Memory per Function instance in MB.')
@allowed([512, 2048, 4096])
param functionInstanceMemoryMB int = 2048

@description('Durable Functions task hub name.')
param taskHubName string = 'lakewatt'

@description('NCRONTAB schedule of the day-ahead price pull (UTC).')
param pricesSchedule string = '0 15 13 * * *'

@description('Comma-separated bidding zones whose day-ahead prices are pulled.')
param pricesZones string = 'DE-LU,NL'

@description('Comma-separated price providers: entsoe, energy-charts.')
param pricesProviders string = 'energy-charts'

@description('ENTSO-E security token (from the azd environment, never a file); empty to set it later.')
@secure()
param entsoeSecurityToken string = ''

@description('First wait between two polls of a Databricks run, in seconds.')
param jobPollMinSeconds int = 5

@description('Longest wait between two polls of a Databricks run, in seconds.')
param jobPollMaxSeconds int = 60

@description('Minutes after which a Databricks run is cancelled and the step fails.')
param jobDeadlineMinutes int = 120

@description('How long a batch rides out a Jobs API outage (unreachable, 429, 5xx) before its files fail with JOBS_API_UNAVAILABLE.')
@minValue(1)
param jobsApiOutageMinutes int = 60

@description('Largest bronze file accepted, in bytes (4 GiB).')
param validationMaxFileBytes int = 4294967296

@description('Largest decompressed size of a gzip file, in bytes (16 GiB).')
param validationMaxDecompressedBytes int = 17179869184

@description('Largest decompressed/compressed ratio before a gzip file is rejected.')
param validationMaxCompressionRatio int = 200

@description('Longest line accepted in a text file, in bytes.')
param validationMaxLineBytes int = 65536

@description('Most (meter, channel) series in one meter-readings file (memory bound; decision 0017).')
param validationMaxSeries int = 600000

// ---- Databricks

@description('Name of the Databricks job that builds silver tables (as the bundle names it).')
param databricksSilverJobName string = 'lakewatt-silver'

@description('Name of the Databricks job that builds gold tables (as the bundle names it).')
param databricksGoldJobName string = 'lakewatt-gold'

@description('Silver job id, recorded in the azd environment by the post-provision hook; empty before the first bundle deploy.')
param databricksSilverJobId string = ''

@description('Gold job id, recorded in the azd environment by the post-provision hook; empty before the first bundle deploy.')
param databricksGoldJobId string = ''

@description('Unity Catalog catalog that holds the bronze, silver and gold schemas.')
param lakewattCatalog string = 'lakewatt'

@description('SQL warehouse the operations console queries gold on, as the signed-in user; empty: the console shows runs only.')
param consoleSqlWarehouseId string = ''

@description('Object id of the AzureDatabricks enterprise application in this tenant (for the Key Vault-backed secret scope); empty to skip.')
param azureDatabricksAppObjectId string = ''

@description('Email addresses told when BlobCreated events are dead-lettered or dropped (empty: portal only).')
param alertEmails array = []

// ---- Names

var abbrs = loadJsonContent('abbreviations.json')
var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = { 'azd-env-name': environmentName, application: 'lakewatt' }

var deadLetterContainerName = 'eventgrid-deadletter'
var functionContainers = ['bronze', 'staging', 'quarantine', 'audit', deadLetterContainerName]
var allLakeContainers = concat(functionContainers, ['silver', 'gold'])

var bronzeAccountName = '${abbrs.storageStorageAccounts}lake${resourceToken}'
var silverAccountName = separateLayerAccounts ? '${abbrs.storageStorageAccounts}slv${resourceToken}' : bronzeAccountName
var goldAccountName = separateLayerAccounts ? '${abbrs.storageStorageAccounts}gld${resourceToken}' : bronzeAccountName
var functionAppName = '${abbrs.webSitesFunctions}${resourceToken}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}-${take(resourceToken, 7)}'
var entsoeSecretName = 'entsoe-security-token'
var piiHashKeySecretName = 'pii-hash-key'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: !empty(resourceGroupName) ? resourceGroupName : '${abbrs.resourcesResourceGroups}${environmentName}'
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    location: location
    tags: tags
    logAnalyticsName: '${abbrs.operationalInsightsWorkspaces}${resourceToken}'
    applicationInsightsName: '${abbrs.insightsComponents}${resourceToken}'
    retentionInDays: logRetentionDays
    dailyQuotaGb: logDailyQuotaGb
  }
}

module functionIdentity 'modules/identity.bicep' = {
  name: 'function-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}func-${resourceToken}'
    location: location
    tags: tags
  }
}

// The identity the Databricks jobs run as (bundle run_as). It holds no Azure role: the jobs reach the lake
// through Unity Catalog (the access connector), and the deploy hook grants this principal the catalog and the
// secret scope only. Its own identity, so a job never runs with the deploying user's rights.
module jobsIdentity 'modules/identity.bicep' = {
  name: 'databricks-jobs-identity'
  scope: rg
  params: {
    name: '${abbrs.managedIdentityUserAssignedIdentities}dbjobs-${resourceToken}'
    location: location
    tags: tags
  }
}

// The bronze account (bronze, staging, quarantine, audit, dead-letter), and with one shared account also silver
// and gold. The Function only ever talks to this account (LAKE_BLOB_ENDPOINT).
module lake 'modules/lake-account.bicep' = {
  name: 'lake-bronze'
  scope: rg
  params: {
    name: bronzeAccountName
    containers: separateLayerAccounts ? functionContainers : allLakeContainers
    location: location
    tags: tags
    skuName: lakeSkuName
    blobSoftDeleteDays: blobSoftDeleteDays
    containerSoftDeleteDays: containerSoftDeleteDays
    stagingRetentionDays: stagingRetentionDays
    quarantineRetentionDays: quarantineRetentionDays
    deadLetterRetentionDays: deadLetterRetentionDays
    bronzeCoolAfterDays: bronzeCoolAfterDays
    bronzeColdAfterDays: bronzeColdAfterDays
    deadLetterContainerName: deadLetterContainerName
    publicNetworkAccess: lakePublicNetworkAccess
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    auditRetentionDays: auditRetentionDays
  }
}

// With separateLayerAccounts, silver and gold live in accounts of their own (same settings, own access logs).
module lakeSilver 'modules/lake-account.bicep' = if (separateLayerAccounts) {
  name: 'lake-silver'
  scope: rg
  params: {
    name: silverAccountName
    containers: ['silver']
    location: location
    tags: tags
    skuName: lakeSkuName
    blobSoftDeleteDays: blobSoftDeleteDays
    containerSoftDeleteDays: containerSoftDeleteDays
    stagingRetentionDays: stagingRetentionDays
    quarantineRetentionDays: quarantineRetentionDays
    deadLetterRetentionDays: deadLetterRetentionDays
    bronzeCoolAfterDays: bronzeCoolAfterDays
    bronzeColdAfterDays: bronzeColdAfterDays
    deadLetterContainerName: deadLetterContainerName
    publicNetworkAccess: lakePublicNetworkAccess
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    auditRetentionDays: auditRetentionDays
  }
}

module lakeGold 'modules/lake-account.bicep' = if (separateLayerAccounts) {
  name: 'lake-gold'
  scope: rg
  params: {
    name: goldAccountName
    containers: ['gold']
    location: location
    tags: tags
    skuName: lakeSkuName
    blobSoftDeleteDays: blobSoftDeleteDays
    containerSoftDeleteDays: containerSoftDeleteDays
    stagingRetentionDays: stagingRetentionDays
    quarantineRetentionDays: quarantineRetentionDays
    deadLetterRetentionDays: deadLetterRetentionDays
    bronzeCoolAfterDays: bronzeCoolAfterDays
    bronzeColdAfterDays: bronzeColdAfterDays
    deadLetterContainerName: deadLetterContainerName
    publicNetworkAccess: lakePublicNetworkAccess
    logAnalyticsId: monitoring.outputs.logAnalyticsId
    auditRetentionDays: auditRetentionDays
  }
}

module hostStorage 'modules/host-storage.bicep' = {
  name: 'host-storage'
  scope: rg
  params: {
    name: '${abbrs.storageStorageAccounts}func${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    functionPrincipalId: functionIdentity.outputs.principalId
  }
}

module functionVault 'modules/keyvault.bicep' = {
  name: 'function-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}fn-${resourceToken}'
    location: location
    tags: tags
    readerPrincipalId: functionIdentity.outputs.principalId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    secrets: { '${entsoeSecretName}': entsoeSecurityToken }
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

// Read by Databricks only (Key Vault-backed secret scope), never by the Function.
module databricksVault 'modules/keyvault.bicep' = {
  name: 'databricks-vault'
  scope: rg
  params: {
    name: '${abbrs.keyVaultVaults}dbw-${resourceToken}'
    location: location
    tags: tags
    readerPrincipalId: azureDatabricksAppObjectId
    deployerPrincipalId: principalId
    deployerPrincipalType: principalType
    secrets: {}
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module databricks 'modules/databricks.bicep' = {
  name: 'databricks'
  scope: rg
  params: {
    workspaceName: '${abbrs.databricksWorkspaces}${resourceToken}'
    accessConnectorName: '${abbrs.databricksAccessConnectors}${resourceToken}'
    managedResourceGroupName: '${rg.name}-dbw-managed'
    location: location
    tags: tags
    logAnalyticsId: monitoring.outputs.logAnalyticsId
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: rg
  params: {
    name: functionAppName
    planName: '${abbrs.webServerFarms}${resourceToken}'
    location: location
    tags: union(tags, { 'azd-service-name': 'pipeline' })
    identityId: functionIdentity.outputs.id
    identityClientId: functionIdentity.outputs.clientId
    identityPrincipalId: functionIdentity.outputs.principalId
    hostStorageName: hostStorage.outputs.name
    deploymentContainerName: deploymentContainerName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    maximumInstanceCount: functionMaximumInstanceCount
    instanceMemoryMB: functionInstanceMemoryMB
    lakeBlobEndpoint: lake.outputs.blobEndpoint
    lakeDfsEndpoint: lake.outputs.dfsEndpoint
    keyVaultName: functionVault.outputs.name
    entsoeSecretName: entsoeSecretName
    databricksHost: databricks.outputs.workspaceUrl
    taskHubName: taskHubName
    databricksSilverJobName: databricksSilverJobName
    databricksGoldJobName: databricksGoldJobName
    databricksSilverJobId: databricksSilverJobId
    databricksGoldJobId: databricksGoldJobId
    databricksSqlWarehouseId: consoleSqlWarehouseId
    databricksSqlCatalog: lakewattCatalog
    jobPollMinSeconds: jobPollMinSeconds
    jobPollMaxSeconds: jobPollMaxSeconds
    jobDeadlineMinutes: jobDeadlineMinutes
    jobsApiOutageMinutes: jobsApiOutageMinutes
    validationMaxFileBytes: validationMaxFileBytes
    validationMaxDecompressedBytes: validationMaxDecompressedBytes
    validationMaxCompressionRatio: validationMaxCompressionRatio
    validationMaxLineBytes: validationMaxLineBytes
    validationMaxSeries: validationMaxSeries
    pricesSchedule: pricesSchedule
    pricesZones: pricesZones
    pricesProviders: pricesProviders
    apiAuthClientId: apiAuthClientId
    telemetrySamplingPercentage: telemetrySamplingPercentage
  }
}

// The pipeline's workbook and alert rules on its Application Insights events (docs/operations.md).
module observability 'modules/observability.bicep' = {
  name: 'observability'
  scope: rg
  params: {
    name: monitoring.outputs.applicationInsightsName
    location: location
    tags: tags
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    actionGroupId: alertActionGroupId
    rejectedSharePercentThreshold: rejectedSharePercentThreshold
    databricksRunP95Minutes: databricksRunP95Minutes
    activityFailureThreshold: activityFailureThreshold
  }
}

module eventGridTopic 'modules/event-grid-topic.bicep' = {
  name: 'event-grid-topic'
  scope: rg
  params: {
    name: '${abbrs.eventGridSystemTopics}lake-${resourceToken}'
    location: location
    tags: tags
    storageAccountId: lake.outputs.id
    alertEmails: alertEmails
  }
}

module lakeAccess 'modules/lake-access.bicep' = {
  name: 'lake-access'
  scope: rg
  dependsOn: [lake, lakeSilver, lakeGold]
  params: {
    bronzeAccountName: bronzeAccountName
    silverAccountName: silverAccountName
    goldAccountName: goldAccountName
    deadLetterContainerName: deadLetterContainerName
    functionPrincipalId: functionIdentity.outputs.principalId
    connectorPrincipalId: databricks.outputs.accessConnectorPrincipalId
    eventGridPrincipalId: eventGridTopic.outputs.principalId
    analystsGroupObjectId: analystsGroupObjectId
    sourceWriters: sourceWriters
  }
}

// ---- Outputs: azd stores them in the environment; the hooks read them.

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output AZURE_FUNCTION_APP_NAME string = functionApp.outputs.name
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = functionIdentity.outputs.clientId
output AZURE_DATABRICKS_JOBS_IDENTITY_CLIENT_ID string = jobsIdentity.outputs.clientId
output AZURE_FUNCTION_KEY_VAULT_NAME string = functionVault.outputs.name
output AZURE_DATABRICKS_KEY_VAULT_NAME string = databricksVault.outputs.name
output AZURE_DATABRICKS_KEY_VAULT_ID string = databricksVault.outputs.id
output AZURE_DATABRICKS_KEY_VAULT_URI string = databricksVault.outputs.uri
output PII_HASH_KEY_SECRET_NAME string = piiHashKeySecretName
output LAKE_STORAGE_ACCOUNT string = bronzeAccountName
output LAKE_SILVER_STORAGE_ACCOUNT string = silverAccountName
output LAKE_GOLD_STORAGE_ACCOUNT string = goldAccountName
output LAKE_DEADLETTER_CONTAINER string = deadLetterContainerName
output EVENTGRID_SYSTEM_TOPIC_NAME string = eventGridTopic.outputs.name
output DATABRICKS_HOST string = databricks.outputs.workspaceUrl
output DATABRICKS_WORKSPACE_RESOURCE_ID string = databricks.outputs.workspaceId
output DATABRICKS_ACCESS_CONNECTOR_ID string = databricks.outputs.accessConnectorId
output DATABRICKS_SILVER_JOB_NAME string = databricksSilverJobName
output DATABRICKS_GOLD_JOB_NAME string = databricksGoldJobName
output LAKEWATT_CATALOG string = lakewattCatalog
