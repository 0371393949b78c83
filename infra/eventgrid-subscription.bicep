// Event Grid subscription: bronze landing BlobCreated events -> the Function's Event Grid trigger
// (bronzeBlobCreated). Deployed by scripts/azd-postdeploy.sh AFTER `azd deploy`, never by main.bicep:
//  1. the webhook URL carries the host's `eventgrid_extension` system key, which the Functions host creates
//     only when it first starts with code that has an Event Grid trigger;
//  2. Event Grid validates a webhook synchronously when the subscription is created (validation handshake),
//     so the function must already be deployed and answering.
// The key is read inside ARM with listKeys() and never passes through the hook, a file or an output; Event Grid
// stores the full endpoint URL as a secret and returns only its base URL.

@description('Event Grid system topic on the bronze lake account (output of main.bicep).')
param systemTopicName string

@description('Function App name (output of main.bicep).')
param functionAppName string

@description('Storage account that holds the dead-letter container (the bronze lake account).')
param deadLetterAccountName string

@description('Container for events that could not be delivered.')
param deadLetterContainerName string = 'eventgrid-deadletter'

@description('Name of the Event Grid-triggered function.')
param functionName string = 'bronzeBlobCreated'

@description('Delivery attempts before an event is dead-lettered.')
@minValue(1)
@maxValue(30)
param maxDeliveryAttempts int = 30

@description('Minutes an event is retried before it is dead-lettered.')
@minValue(1)
@maxValue(1440)
param eventTimeToLiveInMinutes int = 1440

// Only files under bronze/landing/ start an ingestion; writes to every other container (including the
// pipeline's own staging, quarantine, silver, gold and audit writes) can never loop back into the pipeline.
var landingSubjectPrefix = '/blobServices/default/containers/bronze/blobs/landing/'

// Completed writes only. CreateFile (the first, empty step of a DFS upload) is left out: its FlushWithClose
// follows when the content is complete.
var completedWriteApis = [
  'PutBlob'
  'PutBlockList'
  'FlushWithClose'
  'CopyBlob'
  'SftpCommit'
]

resource systemTopic 'Microsoft.EventGrid/systemTopics@2022-06-15' existing = {
  name: systemTopicName
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource deadLetterAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: deadLetterAccountName
}

var eventGridExtensionKey = listKeys('${functionApp.id}/host/default', '2024-04-01').systemKeys.eventgrid_extension

resource bronzeLanding 'Microsoft.EventGrid/systemTopics/eventSubscriptions@2022-06-15' = {
  parent: systemTopic
  name: 'bronze-landing-to-${functionName}'
  properties: {
    eventDeliverySchema: 'EventGridSchema'
    destination: {
      endpointType: 'WebHook'
      properties: {
        endpointUrl: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/eventgrid?functionName=${functionName}&code=${eventGridExtensionKey}'
        // One event per request: a failure retries (and at worst dead-letters) that event alone.
        maxEventsPerBatch: 1
        preferredBatchSizeInKilobytes: 64
      }
    }
    filter: {
      includedEventTypes: ['Microsoft.Storage.BlobCreated']
      subjectBeginsWith: landingSubjectPrefix
      isSubjectCaseSensitive: true
      enableAdvancedFilteringOnArrays: false
      advancedFilters: [
        {
          operatorType: 'StringIn'
          key: 'data.api'
          values: completedWriteApis
        }
      ]
    }
    retryPolicy: {
      maxDeliveryAttempts: maxDeliveryAttempts
      eventTimeToLiveInMinutes: eventTimeToLiveInMinutes
    }
    // Written with the system topic's identity (Contributor on this one container, see lake-access.bicep).
    deadLetterWithResourceIdentity: {
      identity: { type: 'SystemAssigned' }
      deadLetterDestination: {
        endpointType: 'StorageBlob'
        properties: {
          resourceId: deadLetterAccount.id
          blobContainerName: deadLetterContainerName
        }
      }
    }
  }
}

output subscriptionName string = bronzeLanding.name
