// Event Grid system topic on the bronze lake account. The subscription to the Function is NOT here: it needs
// the Function's eventgrid_extension system key, which exists only after the code is deployed and the host
// has started. infra/eventgrid-subscription.bicep creates it from the azd postdeploy hook.

@description('System topic name.')
param name string

@description('Azure region (the storage account\'s region).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Resource id of the storage account whose events the topic publishes.')
param storageAccountId string

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' = {
  name: name
  location: location
  tags: tags
  // The topic's identity writes dead-lettered events; it gets Contributor on the dead-letter container only.
  identity: { type: 'SystemAssigned' }
  properties: {
    source: storageAccountId
    topicType: 'Microsoft.Storage.StorageAccounts'
  }
}

output name string = systemTopic.name
output principalId string = systemTopic.identity.principalId
