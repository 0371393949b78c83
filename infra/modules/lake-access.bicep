// Who may touch which lake container. Every grant is a data-plane role scoped to ONE container; nothing is
// granted on an account, resource group or subscription, so no other principal can read bronze.
//
//   principal                | bronze | staging | quarantine | audit                     | silver | gold | dead-letter
//   Function identity        | read   | write   | write      | write, never delete       |        |      |
//   Databricks connector     | read   | read    |            | write job-runs/ only      | write  | write|
//   Analysts group           |        |         |            |                           |        | read |
//   Source writers group     | create under landing/, no read, no delete                                           |
//   Event Grid system topic  |        |         |            |                           |        |      | write
//
// ("write" is Storage Blob Data Contributor, which includes read.) Role-assignment names are
// guid(scope, principal, role) so re-deploying is idempotent and two grants never collide.

import { roleIds } from 'roles.bicep'

@description('Account holding bronze, staging, quarantine, audit and the dead-letter container.')
param bronzeAccountName string

@description('Account holding silver (the bronze account when the layers share one account).')
param silverAccountName string

@description('Account holding gold (the bronze account when the layers share one account).')
param goldAccountName string

@description('Dead-letter container for Event Grid.')
param deadLetterContainerName string

@description('Principal id of the Function App user-assigned identity.')
param functionPrincipalId string

@description('Principal id of the Databricks access connector (Unity Catalog storage credential).')
param connectorPrincipalId string

@description('Principal id of the Event Grid system topic.')
param eventGridPrincipalId string

@description('Object id of the Entra ID group of analysts who read gold; empty for none.')
param analystsGroupObjectId string

@description('Object id of the Entra ID group of source systems that drop files into bronze/landing/; empty for none.')
param sourceWritersGroupObjectId string

@description('Folder of the audit container where Databricks jobs write their run manifests.')
param jobRunManifestPrefix string = 'job-runs/'

var blobActions = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs'
var blobPath = '@Resource[${blobActions}:path]'

// Audit records are create-only: the Function may create and read them but never delete or rename one.
var auditNoDeleteCondition = '((!(ActionMatches{\'${blobActions}/delete\'})) AND (!(ActionMatches{\'${blobActions}/move/action\'})))'

// Databricks never deletes audit data, and may write only under job-runs/ (its run manifests).
var manifestOnlyCondition = '((!(ActionMatches{\'${blobActions}/delete\'}))) AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'}) AND !(ActionMatches{\'${blobActions}/move/action\'})) OR (${blobPath} StringStartsWith \'${jobRunManifestPrefix}\'))'

// Source systems drop files but cannot read bronze back, delete, or write outside landing/.
var landingWriteOnlyCondition = '((!(ActionMatches{\'${blobActions}/read\'})) AND (!(ActionMatches{\'${blobActions}/delete\'}))) AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'}) AND !(ActionMatches{\'${blobActions}/move/action\'})) OR (${blobPath} StringStartsWith \'landing/\'))'

resource bronze 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${bronzeAccountName}/default/bronze'
}

resource staging 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${bronzeAccountName}/default/staging'
}

resource quarantine 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${bronzeAccountName}/default/quarantine'
}

resource audit 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${bronzeAccountName}/default/audit'
}

resource deadLetter 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${bronzeAccountName}/default/${deadLetterContainerName}'
}

resource silver 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${silverAccountName}/default/silver'
}

resource gold 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' existing = {
  name: '${goldAccountName}/default/gold'
}

// ---- Function identity: reads bronze; writes staging, quarantine and audit.

resource functionReadsBronze 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bronze.id, functionPrincipalId, roleIds.storageBlobDataReader)
  scope: bronze
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionWritesStaging 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(staging.id, functionPrincipalId, roleIds.storageBlobDataContributor)
  scope: staging
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionWritesQuarantine 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(quarantine.id, functionPrincipalId, roleIds.storageBlobDataContributor)
  scope: quarantine
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionWritesAudit 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(audit.id, functionPrincipalId, roleIds.storageBlobDataContributor)
  scope: audit
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: auditNoDeleteCondition
  }
}

// ---- Databricks access connector: reads bronze and staging; writes silver, gold and the run manifests.

resource connectorReadsBronze 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bronze.id, connectorPrincipalId, roleIds.storageBlobDataReader)
  scope: bronze
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: connectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorReadsStaging 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(staging.id, connectorPrincipalId, roleIds.storageBlobDataReader)
  scope: staging
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: connectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorWritesSilver 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(silver.id, connectorPrincipalId, roleIds.storageBlobDataContributor)
  scope: silver
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: connectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorWritesGold 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(gold.id, connectorPrincipalId, roleIds.storageBlobDataContributor)
  scope: gold
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: connectorPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource connectorWritesManifests 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(audit.id, connectorPrincipalId, roleIds.storageBlobDataContributor)
  scope: audit
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: connectorPrincipalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: manifestOnlyCondition
  }
}

// ---- Analysts: gold only.

resource analystsReadGold 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(analystsGroupObjectId)) {
  name: guid(gold.id, analystsGroupObjectId, roleIds.storageBlobDataReader)
  scope: gold
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: analystsGroupObjectId
    principalType: 'Group'
  }
}

// ---- Source systems: write-only drop box under bronze/landing/.

resource sourcesWriteLanding 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(sourceWritersGroupObjectId)) {
  name: guid(bronze.id, sourceWritersGroupObjectId, roleIds.storageBlobDataContributor)
  scope: bronze
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: sourceWritersGroupObjectId
    principalType: 'Group'
    conditionVersion: '2.0'
    condition: landingWriteOnlyCondition
  }
}

// ---- Event Grid: writes undeliverable events to the dead-letter container.

resource eventGridWritesDeadLetter 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(deadLetter.id, eventGridPrincipalId, roleIds.storageBlobDataContributor)
  scope: deadLetter
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: eventGridPrincipalId
    principalType: 'ServicePrincipal'
  }
}
