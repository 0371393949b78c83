// One Key Vault with exactly one reader. Lakewatt uses two: the Function's vault (price-provider tokens, read
// through Key Vault references) and the Databricks vault (the PII hashing key, read through a Key Vault-backed
// secret scope). Two vaults keep each reader away from the other's secrets without per-secret conditions.
// RBAC authorization, purge protection, audit log to Log Analytics.

import { roleIds } from 'roles.bicep'

@description('Key Vault name (3-24 characters).')
@minLength(3)
@maxLength(24)
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Principal id of the identity that reads this vault\'s secrets; empty to grant nobody yet.')
param readerPrincipalId string

@description('Object id of the deploying user or pipeline principal, who sets secret values; empty to skip.')
param deployerPrincipalId string

@description('Principal type of the deployer.')
@allowed(['User', 'ServicePrincipal', 'Group'])
param deployerPrincipalType string

@description('Secrets to create from secure deployment parameters: name -> value. Empty values are skipped.')
@secure()
param secrets object

@description('Log Analytics workspace for the vault audit log (who read which secret).')
param logAnalyticsId string

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: { bypass: 'AzureServices', defaultAction: 'Allow' }
  }
}

resource secretResources 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = [
  for secret in items(secrets): if (!empty(secret.value)) {
    parent: vault
    name: secret.key
    properties: {
      value: secret.value
      contentType: 'text/plain'
    }
  }
]

resource readerCanGetSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(readerPrincipalId)) {
  name: guid(vault.id, readerPrincipalId, roleIds.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsUser)
    principalId: readerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerSetsSecrets 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(vault.id, deployerPrincipalId, roleIds.keyVaultSecretsOfficer)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleIds.keyVaultSecretsOfficer)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource vaultDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'vault-audit'
  scope: vault
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { categoryGroup: 'audit', enabled: true }
    ]
  }
}

output name string = vault.name
output id string = vault.id
output uri string = vault.properties.vaultUri
