// The Function App's user-assigned managed identity. User-assigned (not system-assigned) so its grants exist
// before the app does, survive re-creating the app, and its client id can be written into app settings.

@description('Identity name.')
param name string

@description('Azure region.')
param location string

@description('Tags applied to every resource.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output id string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
