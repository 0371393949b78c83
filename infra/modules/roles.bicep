// Built-in role definition ids used by Lakewatt. This is the complete allow-list: a role that is not listed
// here is not assigned anywhere (test/unit/infra checks it). Ids are the same in every Azure tenant.

@export()
@description('Built-in Azure roles Lakewatt assigns, by name.')
var roleIds = {
  // Read blobs in one container (bronze for the Function and Databricks; gold for analysts).
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1'
  // Read, write and delete blobs in one container (staging, quarantine, audit, silver, gold, dead-letter).
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
  // Durable Functions task hub queues, on the Function's own host storage account only.
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  // Durable Functions history and instance tables, on the host storage account only.
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  // Send telemetry to Application Insights with Entra ID (local auth is off).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
  // Read one secret's value (Key Vault references; Databricks Key Vault-backed secret scope).
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  // The deploying user sets secret values (PII hash key, provider tokens); no data-plane access elsewhere.
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7'
}

