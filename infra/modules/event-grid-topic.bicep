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

@description('Email addresses told when events are dead-lettered or dropped (empty: the alert shows in the portal only).')
param alertEmails array = []

resource alertGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmails)) {
  name: 'ag-${name}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'lw-events'
    enabled: true
    emailReceivers: [for (email, i) in alertEmails: { name: 'email-${i}', emailAddress: email, useCommonAlertSchema: true }]
  }
}

// An event Event Grid gave up on (dead-lettered after its retries, or dropped) is a landing file that no run
// will pick up until the reconciliation's next pass: tell someone at once. One alert per metric (the criteria
// of one alert must all hold to fire).
var lostEventMetrics = ['DeadLetteredCount', 'DroppedEventCount']

resource lostEventsAlerts 'Microsoft.Insights/metricAlerts@2018-03-01' = [for metric in lostEventMetrics: {
  name: 'alert-${name}-${toLower(metric)}'
  location: 'global'
  tags: tags
  properties: {
    description: 'BlobCreated events were lost (${metric} > 0): see docs/operations.md "Missed files".'
    severity: 2
    enabled: true
    scopes: [systemTopic.id]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT15M'
    criteria: {
      'odata.type': 'Microsoft.Azure.Monitor.SingleResourceMultipleMetricCriteria'
      allOf: [
        {
          criterionType: 'StaticThresholdCriterion'
          name: metric
          metricNamespace: 'Microsoft.EventGrid/systemTopics'
          metricName: metric
          operator: 'GreaterThan'
          threshold: 0
          timeAggregation: 'Total'
        }
      ]
    }
    actions: empty(alertEmails) ? [] : [{ actionGroupId: alertGroup.id }]
  }
}]

output name string = systemTopic.name
output principalId string = systemTopic.identity.principalId
