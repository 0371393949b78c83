// The pipeline's workbook and alert rules on Application Insights. They read the structured events the code
// emits (lib/telemetry/names.ts: customEvents named IngestRunEnded, ActivityFailed, DatabricksRunEnded,
// FreshnessBreach); test/unit/infra/observability.test.ts checks every query against those names.
// What each alert means and what to do: docs/operations.md "Traces, events and alerts".

@description('Prefix of the alert rule names, e.g. the Application Insights component name.')
param name string

@description('Azure region (the Application Insights component\'s region).')
param location string

@description('Tags applied to every resource.')
param tags object

@description('Application Insights component the workbook and the alerts read.')
param applicationInsightsName string

@description('Resource id of the action group every alert notifies (empty: the alerts show in the portal only).')
param actionGroupId string

@description('Rejected rows of a source, in percent of its rows read over the last hour, above which its alert fires.')
@minValue(1)
@maxValue(100)
param rejectedSharePercentThreshold int

@description('95th percentile of a Databricks job\'s run duration over the last hour, in minutes, above which its alert fires.')
@minValue(1)
param databricksRunP95Minutes int

@description('Failed activity attempts of one activity in 15 minutes above which the alert fires (retries count).')
@minValue(0)
param activityFailureThreshold int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// ---- Queries: one row per value of the alert's dimensions (one alert each), with the measured column.

var failedRunsQuery = '''
customEvents
| where name == "IngestRunEnded"
| where tostring(customDimensions.status) == "failed"
| summarize failed = count() by source = tostring(customDimensions.source), dataset = tostring(customDimensions.dataset)
'''

// A file rejected whole counts all its rows; a file with no report (no contract) has none to count.
var rejectedShareQuery = '''
customEvents
| where name == "IngestRunEnded"
| extend source = tostring(customDimensions.source), verdict = tostring(customDimensions.verdict)
| extend rows_read = todouble(customDimensions.rows_read), rows_rejected = todouble(customDimensions.rows_rejected)
| extend rejected = iff(verdict == "rejected", rows_read, rows_rejected)
| summarize total = sum(rows_read), rejected = sum(rejected) by source
| where total > 0
| extend rejected_share_percent = 100.0 * rejected / total
'''

// The freshness check logs each new finding once; as a customEvents row (emitEvent) or as a JSON log line.
var freshnessQuery = '''
union
  (customEvents
   | where name == "FreshnessBreach"
   | project source = tostring(customDimensions.source), dataset = tostring(customDimensions.dataset)),
  (traces
   | where message startswith '{"event":"FreshnessBreach"'
   | extend breach = parse_json(message)
   | project source = tostring(breach.source), dataset = tostring(breach.dataset))
| summarize breaches = count() by source, dataset
'''

var runDurationQuery = '''
customEvents
| where name == "DatabricksRunEnded"
| summarize p95_minutes = percentile(todouble(customDimensions.duration_ms), 95) / 60000.0 by job = tostring(customDimensions.job)
'''

var activityFailuresQuery = '''
customEvents
| where name == "ActivityFailed"
| summarize failures = count() by activity = tostring(customDimensions.activity)
'''

var alerts = [
  {
    key: 'failed-runs'
    displayName: 'Lakewatt: failed runs'
    description: 'A file\'s run ended failed (its audit record says which stage and code): list and replay it.'
    severity: 1
    frequency: 'PT5M'
    window: 'PT15M'
    query: failedRunsQuery
    measure: 'failed'
    aggregation: 'Total'
    dimensions: [
      { name: 'source', operator: 'Include', values: ['*'] }
      { name: 'dataset', operator: 'Include', values: ['*'] }
    ]
    threshold: 0
  }
  {
    key: 'rejected-share'
    displayName: 'Lakewatt: rejected share over threshold'
    description: 'A source\'s files lost more than ${rejectedSharePercentThreshold}% of their rows to validation in the last hour.'
    severity: 2
    frequency: 'PT15M'
    window: 'PT1H'
    query: rejectedShareQuery
    measure: 'rejected_share_percent'
    aggregation: 'Maximum'
    dimensions: [{ name: 'source', operator: 'Include', values: ['*'] }]
    threshold: rejectedSharePercentThreshold
  }
  {
    key: 'freshness-breaches'
    displayName: 'Lakewatt: late or missing files'
    description: 'A scheduled source\'s file is late or missing (a new freshness finding).'
    severity: 2
    frequency: 'PT15M'
    window: 'PT30M'
    query: freshnessQuery
    measure: 'breaches'
    aggregation: 'Total'
    dimensions: [
      { name: 'source', operator: 'Include', values: ['*'] }
      { name: 'dataset', operator: 'Include', values: ['*'] }
    ]
    threshold: 0
  }
  {
    key: 'databricks-run-p95'
    displayName: 'Lakewatt: slow Databricks runs'
    description: 'The 95th percentile of a Databricks job\'s run duration over the last hour is above ${databricksRunP95Minutes} min.'
    severity: 3
    frequency: 'PT15M'
    window: 'PT1H'
    query: runDurationQuery
    measure: 'p95_minutes'
    aggregation: 'Maximum'
    dimensions: [{ name: 'job', operator: 'Include', values: ['*'] }]
    threshold: databricksRunP95Minutes
  }
  {
    key: 'activity-failures'
    displayName: 'Lakewatt: activity failures'
    description: 'An activity failed more than ${activityFailureThreshold} times in 15 minutes (retries included).'
    severity: 2
    frequency: 'PT5M'
    window: 'PT15M'
    query: activityFailuresQuery
    measure: 'failures'
    aggregation: 'Total'
    dimensions: [{ name: 'activity', operator: 'Include', values: ['*'] }]
    threshold: activityFailureThreshold
  }
]

// Stateful (autoMitigate): one notification when a condition starts and one when it clears, not one per run.
resource pipelineAlerts 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [for alert in alerts: {
  name: 'alert-${name}-${alert.key}'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: alert.displayName
    description: '${alert.description} See docs/operations.md "Traces, events and alerts".'
    severity: alert.severity
    enabled: true
    scopes: [applicationInsights.id]
    evaluationFrequency: alert.frequency
    windowSize: alert.window
    criteria: {
      allOf: [
        {
          query: alert.query
          timeAggregation: alert.aggregation
          metricMeasureColumn: alert.measure
          dimensions: alert.dimensions
          operator: 'GreaterThan'
          threshold: alert.threshold
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: empty(actionGroupId) ? [] : [actionGroupId] }
  }
}]

// The workbook: failed runs, rejected share per source, freshness breaches, Databricks run duration p95 and
// activity failures, over a chosen time range. Its name must be a GUID.
resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'lakewatt-pipeline-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'Lakewatt pipeline'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: loadTextContent('../workbooks/pipeline.workbook.json')
  }
}

output workbookId string = workbook.id
output alertNames array = [for (alert, i) in alerts: pipelineAlerts[i].name]
