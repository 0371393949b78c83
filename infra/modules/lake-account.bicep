// One ADLS Gen2 account of the lake. Secure by default: hierarchical namespace, no anonymous access, no shared
// keys (Entra ID only), TLS 1.2, soft delete, lifecycle rules and data-access logs in Log Analytics.
// Called once (all layers in one account) or once per layer when the layers are physically separated.

@description('Storage account name (3-24 lowercase letters and digits).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Containers (file systems) to create in this account.')
param containers string[]

@description('Replication. ZRS or GZRS is recommended in production where the region offers it.')
@allowed(['Standard_LRS', 'Standard_ZRS', 'Standard_GRS', 'Standard_GZRS', 'Standard_RAGRS', 'Standard_RAGZRS'])
param skuName string

@description('Days a deleted blob (file) can be restored.')
@minValue(1)
@maxValue(365)
param blobSoftDeleteDays int

@description('Days a deleted container can be restored.')
@minValue(1)
@maxValue(365)
param containerSoftDeleteDays int

@description('Days after which staged canonical files are deleted (they are rebuilt from bronze by a replay).')
@minValue(1)
param stagingRetentionDays int

@description('Days after which quarantined files are deleted.')
@minValue(1)
param quarantineRetentionDays int

@description('Days after which Event Grid dead-letter blobs are deleted.')
@minValue(1)
param deadLetterRetentionDays int

@description('Days after last modification at which bronze files move to the cool tier.')
@minValue(1)
param bronzeCoolAfterDays int

@description('Days after last modification at which bronze files move to the cold tier; 0 keeps them cool.')
@minValue(0)
param bronzeColdAfterDays int

@description('Name of the container Event Grid dead-letters undeliverable events into.')
param deadLetterContainerName string

@description('Public network access. Disable only together with private endpoints and VNet integration.')
@allowed(['Enabled', 'Disabled'])
param publicNetworkAccess string

@description('Log Analytics workspace that receives read, write and delete logs.')
param logAnalyticsId string

@description('Days every blob in the audit container stays immutable after it is written (no overwrite, no delete).')
@minValue(1)
@maxValue(146000)
param auditRetentionDays int

resource account 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: { name: skuName }
  properties: {
    // ADLS Gen2: directories, atomic renames, POSIX ACLs.
    isHnsEnabled: true
    accessTier: 'Hot'
    // No anonymous reads of any container, ever.
    allowBlobPublicAccess: false
    // Shared keys (and account SAS) are refused: every caller authenticates with Entra ID and RBAC.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowCrossTenantReplication: false
    publicNetworkAccess: publicNetworkAccess
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: publicNetworkAccess == 'Enabled' ? 'Allow' : 'Deny'
    }
    encryption: {
      keySource: 'Microsoft.Storage'
      requireInfrastructureEncryption: true
      services: {
        blob: { enabled: true, keyType: 'Account' }
        file: { enabled: true, keyType: 'Account' }
      }
    }
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: account
  name: 'default'
  properties: {
    deleteRetentionPolicy: { enabled: true, days: blobSoftDeleteDays }
    containerDeleteRetentionPolicy: { enabled: true, days: containerSoftDeleteDays }
  }
}

resource containerResources 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = [
  for container in containers: {
    parent: blobService
    name: container
    properties: { publicAccess: 'None' }
  }
]

// Audit records are WORM: a container-level time-based retention policy refuses every overwrite and delete
// of a blob until it is auditRetentionDays old, whoever asks (RBAC and ABAC cannot tell a create from an
// overwrite). Container-level, because version-level immutability needs blob versioning, which accounts
// with a hierarchical namespace do not support. Created unlocked: an operator locks it once the period is
// agreed (docs/operations.md); a locked policy can only be extended. New blobs can still be created, so the
// Function's audit records and the jobs' run manifests (both create-only) keep working.
resource auditImmutability 'Microsoft.Storage/storageAccounts/blobServices/containers/immutabilityPolicies@2023-05-01' = if (contains(containers, 'audit')) {
  name: '${name}/default/audit/default'
  dependsOn: [containerResources]
  properties: {
    immutabilityPeriodSinceCreationInDays: auditRetentionDays
    allowProtectedAppendWrites: false
    allowProtectedAppendWritesAll: false
  }
}

var stagingRule = {
  name: 'staging-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: { blobTypes: ['blockBlob'], prefixMatch: ['staging/'] }
    actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: stagingRetentionDays } } }
  }
}

var quarantineRule = {
  name: 'quarantine-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: { blobTypes: ['blockBlob'], prefixMatch: ['quarantine/'] }
    actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: quarantineRetentionDays } } }
  }
}

var deadLetterRule = {
  name: 'deadletter-expiry'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: { blobTypes: ['blockBlob'], prefixMatch: ['${deadLetterContainerName}/'] }
    actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: deadLetterRetentionDays } } }
  }
}

var bronzeTiering = union(
  { tierToCool: { daysAfterModificationGreaterThan: bronzeCoolAfterDays } },
  bronzeColdAfterDays > 0 ? { tierToCold: { daysAfterModificationGreaterThan: bronzeColdAfterDays } } : {}
)

var bronzeRule = {
  name: 'bronze-tiering'
  enabled: true
  type: 'Lifecycle'
  definition: {
    filters: { blobTypes: ['blockBlob'], prefixMatch: ['bronze/'] }
    actions: { baseBlob: bronzeTiering }
  }
}

var lifecycleRules = concat(
  contains(containers, 'staging') ? [stagingRule] : [],
  contains(containers, 'quarantine') ? [quarantineRule] : [],
  contains(containers, deadLetterContainerName) ? [deadLetterRule] : [],
  contains(containers, 'bronze') ? [bronzeRule] : []
)

resource lifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = if (!empty(lifecycleRules)) {
  parent: account
  name: 'default'
  properties: {
    policy: { rules: lifecycleRules }
  }
}

// Who read or wrote which file, when, from where, with which identity: the data-access audit trail.
resource blobDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'lake-data-access'
  scope: blobService
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'StorageRead', enabled: true }
      { category: 'StorageWrite', enabled: true }
      { category: 'StorageDelete', enabled: true }
    ]
    metrics: [
      { category: 'Transaction', enabled: true }
    ]
  }
}

output id string = account.id
output name string = account.name
output blobEndpoint string = account.properties.primaryEndpoints.blob
output dfsEndpoint string = account.properties.primaryEndpoints.dfs
