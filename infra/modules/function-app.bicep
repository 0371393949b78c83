// The Lakewatt Function App: Flex Consumption, Node 22, one user-assigned identity for everything (host
// storage, lake, Key Vault references, Application Insights, Databricks). No connection string or key is
// stored anywhere: every connection is identity-based.

import { roleIds } from 'roles.bicep'

@description('Function App name.')
param name string

@description('Flex Consumption plan name.')
param planName string

@description('Azure region.')
param location string

@description('Tags applied to every resource; azd finds the app by its azd-service-name tag.')
param tags object

@description('Resource id of the user-assigned managed identity.')
param identityId string

@description('Client id of the user-assigned managed identity.')
param identityClientId string

@description('Principal id of the user-assigned managed identity.')
param identityPrincipalId string

@description('Host storage account name (deployment package, Durable Functions task hub).')
param hostStorageName string

@description('Container that holds the deployment package.')
param deploymentContainerName string

@description('Application Insights component name.')
param applicationInsightsName string

@description('Most instances the app scales out to: the main cost and concurrency limit.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int

@description('Memory per instance in MB.')
@allowed([512, 2048, 4096])
param instanceMemoryMB int

@description('Blob endpoint of the lake account that holds bronze, staging, quarantine and audit.')
param lakeBlobEndpoint string

@description('DFS endpoint of the same account.')
param lakeDfsEndpoint string

@description('Name of the Key Vault that holds the Function\'s secrets.')
param keyVaultName string

@description('Name of the Key Vault secret that holds the ENTSO-E security token.')
param entsoeSecretName string

@description('Databricks workspace URL, https://adb-<id>.<n>.azuredatabricks.net.')
param databricksHost string

@description('Durable Functions task hub name.')
param taskHubName string

@description('Name of the Databricks job that builds silver tables.')
param databricksSilverJobName string

@description('Name of the Databricks job that builds gold tables.')
param databricksGoldJobName string

@description('Id of the silver job, recorded by the post-provision hook after `databricks bundle deploy`.')
param databricksSilverJobId string

@description('Id of the gold job, recorded by the post-provision hook after `databricks bundle deploy`.')
param databricksGoldJobId string

@description('SQL warehouse the operations console queries as the signed-in user; empty: its SQL routes answer 503.')
param databricksSqlWarehouseId string

@description('Unity Catalog catalog the console\'s two-part table names resolve in.')
param databricksSqlCatalog string

@description('First wait between two polls of a Databricks run, in seconds.')
param jobPollMinSeconds int

@description('Longest wait between two polls of a Databricks run, in seconds.')
param jobPollMaxSeconds int

@description('Minutes after which a Databricks run is cancelled and the step fails.')
param jobDeadlineMinutes int
param jobsApiOutageMinutes int

@description('Group commit: most files, staged rows and bronze bytes one batched Databricks run takes.')
param batchMaxFiles int = 500
param batchMaxRows int = 20000000
param batchMaxBytes int = 10737418240

@description('How long a file waits for its batch before the step fails with BATCH_WAIT_EXCEEDED.')
param batchWaitMinutes int = 360

@description('Seconds a batch started on an idle queue waits for more files before its run (0: at once).')
@minValue(0)
@maxValue(600)
param batchLingerSeconds int = 0

@description('Silver batch caps per dataset, e.g. {"meter_readings": {"maxFiles": 1000}}; empty: the general caps.')
param batchCapsByDataset object = {}

@description('NCRONTAB schedule of the landing reconciliation (files with no run, misplaced files).')
param reconcileSchedule string = '0 7,37 * * * *'

@description('Minutes a landing file may wait for its event before the reconciliation starts it.')
param reconcileGraceMinutes int = 30

@description('Hours of landing files (by last write) the reconciliation looks at.')
param reconcileLookbackHours int = 48

@description('NCRONTAB schedule of the freshness check (late and missing files of sources with a schedule).')
param freshnessSchedule string = '0 */15 * * * *'

@description('Delivery days back the freshness check judges, and the default window of GET /api/freshness.')
@minValue(1)
@maxValue(92)
param freshnessLookbackDays int = 14

@description('Largest bronze file accepted, in bytes.')
param validationMaxFileBytes int

@description('Largest decompressed size of a gzip file, in bytes.')
param validationMaxDecompressedBytes int

@description('Largest decompressed/compressed ratio before a gzip file is rejected.')
param validationMaxCompressionRatio int

@description('Longest line accepted in a text file, in bytes.')
param validationMaxLineBytes int

@description('Most (meter, channel) series in one meter-readings file.')
param validationMaxSeries int

@description('NCRONTAB schedule of the day-ahead price pull (UTC).')
param pricesSchedule string

@description('Comma-separated bidding zones whose day-ahead prices are pulled.')
param pricesZones string

@description('Comma-separated price providers: entsoe, energy-charts.')
param pricesProviders string

@description('Share of file traces sent to Application Insights, 0-100 (whole traces, by trace id; events are never sampled).')
@minValue(0)
@maxValue(100)
param telemetrySamplingPercentage int = 100

@description('Client id of the Entra ID app registration of the operator API (its app role Lakewatt.Operator).')
@minLength(36)
@maxLength(36)
param apiAuthClientId string

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: hostStorageName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: { tier: 'FlexConsumption', name: 'FC1' }
  properties: { reserved: true }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: { '${identityId}': {} }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references resolve with the user-assigned identity, not a system-assigned one.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: { name: 'node', version: '22' }
    }
  }
}

// Basic (publishing) credentials off: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

// App Service authentication (Easy Auth) in front of every HTTP route: a caller without a valid Entra ID
// token or sign-in session for the operator API's app registration gets 401 before any function runs. The app
// then checks the Lakewatt.Operator app role itself (lib/pipeline/caller.ts). The Event Grid webhook is the one
// exception: Event Grid authenticates with the eventgrid_extension system key, not Entra ID.
// The operations console (/api/console/) is behind the same settings. The unauthenticated action is app-wide:
// redirecting to sign-in would turn the API's 401 into a 302 to a login page for scripts, so it stays 401 and
// operators open the console through /.auth/login/aad?post_login_redirect_uri=/api/console/ (docs/deploy.md).
// The sign-in also asks for an Azure Databricks token (user_impersonation), kept in the token store and handed
// to the app as x-ms-token-aad-access-token: the console's SQL runs as the signed-in user, under their Unity
// Catalog grants, never as the Function's identity (functions/consoleSite.ts).
var databricksUserScope = '2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/user_impersonation'

resource authSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: { enabled: true, runtimeVersion: '~1' }
    globalValidation: {
      requireAuthentication: true
      unauthenticatedClientAction: 'Return401'
      excludedPaths: ['/runtime/webhooks/eventgrid']
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
          clientId: apiAuthClientId
          clientSecretSettingName: 'OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID'
        }
        login: {
          loginParameters: ['scope=openid profile email offline_access ${databricksUserScope}']
        }
        validation: {
          allowedAudiences: ['api://${apiAuthClientId}', apiAuthClientId]
        }
      }
    }
    login: { tokenStore: { enabled: true } }
    httpSettings: { requireHttps: true }
  }
}

// Every key of lib/config.ts SETTINGS whose `azure` is 'required' or 'optional', plus the platform settings.
// Secrets are Key Vault references, resolved by the platform with the user-assigned identity.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    // Functions host storage (Durable task hub, deployment): identity-based, no connection string.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: hostStorage.properties.primaryEndpoints.blob
    AzureWebJobsStorage__queueServiceUri: hostStorage.properties.primaryEndpoints.queue
    AzureWebJobsStorage__tableServiceUri: hostStorage.properties.primaryEndpoints.table
    // Application Insights with Entra ID authentication (the component has local auth disabled).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    // Lakewatt configuration (lib/config.ts).
    LAKEWATT_MODE: 'azure'
    LAKE_BLOB_ENDPOINT: lakeBlobEndpoint
    LAKE_DFS_ENDPOINT: lakeDfsEndpoint
    AZURE_CLIENT_ID: identityClientId
    TASKHUB_NAME: taskHubName
    DATABRICKS_HOST: databricksHost
    DATABRICKS_AUTH: 'managed-identity'
    DATABRICKS_SILVER_JOB: databricksSilverJobName
    DATABRICKS_GOLD_JOB: databricksGoldJobName
    DATABRICKS_SILVER_JOB_ID: databricksSilverJobId
    DATABRICKS_GOLD_JOB_ID: databricksGoldJobId
    DATABRICKS_SQL_WAREHOUSE_ID: databricksSqlWarehouseId
    DATABRICKS_SQL_CATALOG: databricksSqlCatalog
    JOB_POLL_MIN_SECONDS: string(jobPollMinSeconds)
    JOB_POLL_MAX_SECONDS: string(jobPollMaxSeconds)
    JOB_DEADLINE_MINUTES: string(jobDeadlineMinutes)
    JOBS_API_OUTAGE_MINUTES: string(jobsApiOutageMinutes)
    BATCH_MAX_FILES: string(batchMaxFiles)
    BATCH_MAX_ROWS: string(batchMaxRows)
    BATCH_MAX_BYTES: string(batchMaxBytes)
    BATCH_WAIT_MINUTES: string(batchWaitMinutes)
    BATCH_LINGER_SECONDS: string(batchLingerSeconds)
    BATCH_CAPS_BY_DATASET: string(batchCapsByDataset)
    RECONCILE_SCHEDULE: reconcileSchedule
    RECONCILE_GRACE_MINUTES: string(reconcileGraceMinutes)
    RECONCILE_LOOKBACK_HOURS: string(reconcileLookbackHours)
    FRESHNESS_SCHEDULE: freshnessSchedule
    FRESHNESS_LOOKBACK_DAYS: string(freshnessLookbackDays)
    SOURCE_CONTRACTS_DIR: 'contracts/sources'
    VALIDATION_MAX_FILE_BYTES: string(validationMaxFileBytes)
    VALIDATION_MAX_DECOMPRESSED_BYTES: string(validationMaxDecompressedBytes)
    VALIDATION_MAX_COMPRESSION_RATIO: string(validationMaxCompressionRatio)
    VALIDATION_MAX_LINE_BYTES: string(validationMaxLineBytes)
    VALIDATION_MAX_SERIES: string(validationMaxSeries)
    PRICES_SCHEDULE: pricesSchedule
    PRICES_ZONES: pricesZones
    PRICES_PROVIDERS: pricesProviders
    ENTSOE_BASE_URL: 'https://web-api.tp.entsoe.eu/api'
    ENTSOE_SECURITY_TOKEN: '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=${entsoeSecretName})'
    ENERGY_CHARTS_BASE_URL: 'https://api.energy-charts.info'
    // Easy Auth's client credential for the sign-in code flow: the user-assigned identity, trusted as a federated
    // credential of the app registration (docs/deploy.md), so no client secret exists.
    OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID: identityClientId
    // Traces and events through the Azure Monitor distro (lib/telemetry), Entra ID auth as above.
    TELEMETRY_EXPORTER: 'azure-monitor'
    TELEMETRY_SAMPLING_PERCENTAGE: string(telemetrySamplingPercentage)
  }
}

// The identity may publish telemetry to this component only.
resource telemetryPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, identityPrincipalId, roleIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.monitoringMetricsPublisher)
    principalId: identityPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output name string = functionApp.name
output id string = functionApp.id
output defaultHostName string = functionApp.properties.defaultHostName
