// Azure Databricks: a Premium workspace (Unity Catalog, job permissions, audit logs need Premium) and an access
// connector whose managed identity is the Unity Catalog storage credential for the lake. Clusters get no public
// IPs (secure cluster connectivity). Lake access for the connector is granted per container in lake-access.bicep.

@description('Workspace name.')
param workspaceName string

@description('Access connector name.')
param accessConnectorName string

@description('Resource group Databricks manages for the workspace (must not exist yet).')
param managedResourceGroupName string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Log Analytics workspace that receives the workspace audit logs.')
param logAnalyticsId string

resource workspace 'Microsoft.Databricks/workspaces@2024-05-01' = {
  name: workspaceName
  location: location
  tags: tags
  sku: { name: 'premium' }
  properties: {
    managedResourceGroupId: subscriptionResourceId('Microsoft.Resources/resourceGroups', managedResourceGroupName)
    publicNetworkAccess: 'Enabled'
    requiredNsgRules: 'AllRules'
    parameters: {
      // Secure cluster connectivity: cluster nodes have no public IP addresses.
      enableNoPublicIp: { value: true }
    }
  }
}

resource accessConnector 'Microsoft.Databricks/accessConnectors@2024-05-01' = {
  name: accessConnectorName
  location: location
  tags: tags
  identity: { type: 'SystemAssigned' }
  properties: {}
}

// Job runs, cluster events, Unity Catalog access decisions and account changes, next to the storage logs.
resource workspaceDiagnostics 'Microsoft.Insights/diagnosticSettings@2021-05-01-preview' = {
  name: 'databricks-audit'
  scope: workspace
  properties: {
    workspaceId: logAnalyticsId
    logs: [
      { category: 'jobs', enabled: true }
      { category: 'clusters', enabled: true }
      { category: 'accounts', enabled: true }
      { category: 'unityCatalog', enabled: true }
    ]
  }
}

output workspaceId string = workspace.id
output workspaceUrl string = 'https://${workspace.properties.workspaceUrl}'
output accessConnectorId string = accessConnector.id
output accessConnectorPrincipalId string = accessConnector.identity.principalId
