// Who may touch which lake container. Every grant is a data-plane role scoped to ONE container; nothing is
// granted on an account, resource group or subscription, so no other principal can read bronze. Writes into a
// shared container are narrowed by ABAC conditions to one path prefix per writer.
//
//   principal                  | bronze                                   | staging | quarantine | audit                       | silver | gold | dead-letter
//   Function identity          | read; create under landing/prices/<pull  | write   | write      | create under runs/,         |        |      |
//                              | provider>/ only, never delete or rename  |         |            | misplaced/ and freshness/,  |        |      |
//                              |                                          |         |            | never delete or rename      |        |      |
//   Databricks connector       | read                                     | read    |            | write job-runs/ only        | write  | write|
//   Analysts group             |                                          |         |            |                             |        | read |
//   One identity per source    | create under landing/<dataset>/<source>/ only; no read, delete or rename                              |
//   Event Grid system topic    |                                          |         |            |                             |        |      | write
//
// ("write" is Storage Blob Data Contributor, which includes read.) The audit container also has a
// time-based retention policy (lake-account.bicep): nothing in it can be overwritten or deleted, by anyone.
// test/unit/infra/lakeWrites.test.ts maps every lake write in lib/ to the grant here that allows it.
// Role-assignment names are guid(scope, principal, role) so re-deploying is idempotent and two grants never
// collide (so one identity cannot be listed for two sources).

import { roleIds } from 'roles.bicep'

@export()
@description('A source system that drops files into bronze: its own identity, and the one landing folder it writes.')
type sourceWriter = {
  @description('Object id of the source system\'s own identity (service principal, managed identity, or group).')
  principalId: string
  principalType: 'ServicePrincipal' | 'Group' | 'User'
  @description('Dataset of the landing folder.')
  dataset: 'meter_readings' | 'customers' | 'contracts' | 'prices'
  @description('Source id of the landing folder (its source contract): lowercase letters, digits, - and _.')
  @minLength(1)
  @maxLength(63)
  source: string
}

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

@description('Source systems that drop files, one identity each, each limited to bronze/landing/<dataset>/<source>/.')
param sourceWriters sourceWriter[]

@description('Folder of the audit container where Databricks jobs write their run manifests.')
param jobRunManifestPrefix string = 'job-runs/'

var blobActions = 'Microsoft.Storage/storageAccounts/blobServices/containers/blobs'
var blobPath = '@Resource[${blobActions}:path]'

// Audit records are create-only: the Function may create them under runs/ (ingestions and price pulls),
// misplaced/ (files at a path the pipeline cannot read) and freshness/ (late and missing files) and read them,
// never delete or
// rename one (the container's retention policy refuses overwrites, for every principal).
var auditRecordsCondition = '((!(ActionMatches{\'${blobActions}/delete\'})) AND (!(ActionMatches{\'${blobActions}/move/action\'}))) AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'})) OR (${blobPath} StringStartsWith \'runs/\' OR ${blobPath} StringStartsWith \'misplaced/\' OR ${blobPath} StringStartsWith \'freshness/\'))'

// The price pull lands provider answers in bronze: create under landing/prices/<provider>/ only (the providers
// of lib/prices PULL_PROVIDERS), never delete or rename (bronze is never modified). Reads come from the Reader
// grant. Other price sources (files dropped by a source system) have writers of their own.
var pricePullPaths = '${blobPath} StringStartsWith \'landing/prices/energy-charts/\' OR ${blobPath} StringStartsWith \'landing/prices/entsoe/\''
var pricePullCondition = '((!(ActionMatches{\'${blobActions}/delete\'})) AND (!(ActionMatches{\'${blobActions}/move/action\'}))) AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'})) OR (${pricePullPaths}))'

// Databricks never deletes audit data, and may write only under job-runs/ (its run manifests).
var manifestOnlyCondition = '((!(ActionMatches{\'${blobActions}/delete\'}))) AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'}) AND !(ActionMatches{\'${blobActions}/move/action\'})) OR (${blobPath} StringStartsWith \'${jobRunManifestPrefix}\'))'

// A source system drops files into its own landing folder only: it cannot read bronze back, delete, rename, or
// write into another source's folder.
var sourceDenyCondition = '((!(ActionMatches{\'${blobActions}/read\'})) AND (!(ActionMatches{\'${blobActions}/delete\'})) AND (!(ActionMatches{\'${blobActions}/move/action\'})))'

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

// ---- Function identity: reads bronze and lands price pulls there; writes staging, quarantine and audit.

resource functionReadsBronze 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bronze.id, functionPrincipalId, roleIds.storageBlobDataReader)
  scope: bronze
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataReader)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionLandsPrices 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(bronze.id, functionPrincipalId, roleIds.storageBlobDataContributor)
  scope: bronze
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
    principalId: functionPrincipalId
    principalType: 'ServicePrincipal'
    conditionVersion: '2.0'
    condition: pricePullCondition
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
    condition: auditRecordsCondition
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

// ---- Source systems: one identity per source, each a write-only drop box under its own landing folder.

resource sourceWritesLanding 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for writer in sourceWriters: {
    name: guid(bronze.id, writer.principalId, roleIds.storageBlobDataContributor)
    scope: bronze
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.storageBlobDataContributor)
      principalId: writer.principalId
      principalType: writer.principalType
      conditionVersion: '2.0'
      condition: '${sourceDenyCondition} AND ((!(ActionMatches{\'${blobActions}/write\'}) AND !(ActionMatches{\'${blobActions}/add/action\'})) OR (${blobPath} StringStartsWith \'landing/${writer.dataset}/${writer.source}/\'))'
    }
  }
]

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
