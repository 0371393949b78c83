import { readFileSync } from 'node:fs';
import path from 'node:path';

import {
  formatFreshnessBreach,
  FRESHNESS_BREACH_EVENT,
  freshnessBreachLog,
} from '../../../lib/freshness/breach';
import { EVENT_DIMENSIONS, type EventName } from '../../../lib/telemetry/names';
import {
  type BicepFile,
  fileAt,
  literalString,
  loadInfra,
  prop,
  REPO_ROOT,
  resolve,
  type Value,
} from './bicep';
import { kqlReferences, unknownReferences } from './kql';

let observability: BicepFile;
let main: BicepFile;

beforeAll(async () => {
  const files = await loadInfra();
  observability = fileAt(files, 'infra/modules/observability.bicep');
  main = fileAt(files, 'infra/main.bicep');
});

interface AlertDefinition {
  key: string;
  query: string;
  measure: string;
  aggregation: string;
  dimensions: string[];
  threshold: Value | undefined;
}

function alertDefinitions(): AlertDefinition[] {
  const list = observability.vars.get('alerts');
  if (list?.kind !== 'array') throw new Error('observability.bicep has no alerts array');
  return list.items.map((item) => {
    const dimensions = prop(item, 'dimensions');
    return {
      key: literalString(observability, prop(item, 'key')) ?? '',
      query: literalString(observability, prop(item, 'query')) ?? '',
      measure: literalString(observability, prop(item, 'measure')) ?? '',
      aggregation: literalString(observability, prop(item, 'aggregation')) ?? '',
      dimensions:
        dimensions?.kind === 'array'
          ? dimensions.items.map((d) => literalString(observability, prop(d, 'name')) ?? '')
          : [],
      threshold: prop(item, 'threshold'),
    };
  });
}

const alertRule = () =>
  observability.resources.find((r) => r.type === 'Microsoft.Insights/scheduledQueryRules')!;
const workbookResource = () =>
  observability.resources.find((r) => r.type === 'Microsoft.Insights/workbooks')!;

const WORKBOOK_FILE = path.join(REPO_ROOT, 'infra', 'workbooks', 'pipeline.workbook.json');
interface WorkbookItem {
  type: number;
  name: string;
  content: { query?: string };
}
const workbookQueries = (): Array<{ name: string; query: string }> =>
  (JSON.parse(readFileSync(WORKBOOK_FILE, 'utf8')) as { items: WorkbookItem[] }).items
    .filter((item) => item.type === 3)
    .map((item) => ({ name: item.name, query: item.content.query ?? '' }));

describe('alert rules', () => {
  test('when the alerts are declared, then failed runs, rejected share, freshness, Databricks p95 and activity failures each have one, on the event that measures it', () => {
    const eventsByAlert = Object.fromEntries(
      alertDefinitions().map((a) => [a.key, kqlReferences(a.query).events]),
    );

    expect(eventsByAlert).toEqual({
      'failed-runs': ['IngestRunEnded'],
      'rejected-share': ['IngestRunEnded'],
      'freshness-breaches': ['FreshnessBreach'],
      'databricks-run-p95': ['DatabricksRunEnded'],
      'activity-failures': ['ActivityFailed'],
    });
  });

  test('when an alert query names events and dimensions, then lib/telemetry emits each of them', () => {
    const problems = alertDefinitions().map((a) => [a.key, unknownReferences(a.query, EVENT_DIMENSIONS)]);

    expect(problems).toEqual(alertDefinitions().map((a) => [a.key, []]));
  });

  test('when an alert measures a column and splits by dimensions, then its query produces those columns', () => {
    for (const alert of alertDefinitions()) {
      const summarized = alert.query.slice(alert.query.lastIndexOf('summarize'));
      const produced = [alert.measure, ...alert.dimensions].filter((column) =>
        new RegExp(`\\b${column}\\b`).test(summarized),
      );

      expect([alert.key, produced]).toEqual([alert.key, [alert.measure, ...alert.dimensions]]);
    }
  });

  test('when an alert fires, then it notifies the action group that main.bicep passes in as a parameter', () => {
    const rule = alertRule();
    const groups = prop(rule.body, 'properties.actions.actionGroups');
    const module = main.modules.find((m) => m.source === 'modules/observability.bicep');

    expect(rule.loop).toBe(true);
    expect(groups?.text).toBe('empty(actionGroupId) ? [] : [actionGroupId]');
    expect(observability.params.has('actionGroupId')).toBe(true);
    expect(prop(module?.body, 'params.actionGroupId')?.text).toBe('alertActionGroupId');
    expect(main.params.has('alertActionGroupId')).toBe(true);
  });

  test('when an alert rule is declared, then it reads the Application Insights component, its query and threshold come from its definition', () => {
    const rule = alertRule();
    const criterion = prop(rule.body, 'properties.criteria.allOf');
    const first = criterion?.kind === 'array' ? criterion.items[0] : undefined;

    expect(prop(rule.body, 'properties.scopes')?.text).toBe('[applicationInsights.id]');
    expect(prop(first, 'query')?.text).toBe('alert.query');
    expect(prop(first, 'threshold')?.text).toBe('alert.threshold');
    expect(prop(first, 'metricMeasureColumn')?.text).toBe('alert.measure');
    expect(prop(first, 'dimensions')?.text).toBe('alert.dimensions');
  });

  test('when operators tune an alert, then the rejected share, p95 and activity thresholds are parameters main.bicep sets', () => {
    const thresholds = Object.fromEntries(alertDefinitions().map((a) => [a.key, a.threshold?.text]));
    const module = main.modules.find((m) => m.source === 'modules/observability.bicep');

    expect(thresholds).toEqual({
      'failed-runs': '0',
      'rejected-share': 'rejectedSharePercentThreshold',
      'freshness-breaches': '0',
      'databricks-run-p95': 'databricksRunP95Minutes',
      'activity-failures': 'activityFailureThreshold',
    });
    for (const name of [
      'rejectedSharePercentThreshold',
      'databricksRunP95Minutes',
      'activityFailureThreshold',
    ]) {
      expect([name, resolve(main, prop(module?.body, `params.${name}`))?.kind]).toEqual([name, 'number']);
    }
  });
});

describe('the workbook', () => {
  test('when the workbook file is read, then it is JSON with a query for each alert’s event', () => {
    const events = new Set(workbookQueries().flatMap((q) => kqlReferences(q.query).events));

    expect(workbookQueries().length).toBeGreaterThanOrEqual(5);
    expect([...events].sort()).toEqual(
      [...new Set(alertDefinitions().flatMap((a) => kqlReferences(a.query).events))].sort(),
    );
  });

  test('when a workbook query names events and dimensions, then lib/telemetry emits each of them', () => {
    const problems = workbookQueries().map((q) => [q.name, unknownReferences(q.query, EVENT_DIMENSIONS)]);

    expect(problems).toEqual(workbookQueries().map((q) => [q.name, []]));
  });

  test('when the workbook is deployed, then it is this file, shown on the Application Insights component', () => {
    const workbook = workbookResource();

    expect(prop(workbook.body, 'properties.serializedData')?.text).toBe(
      "loadTextContent('../workbooks/pipeline.workbook.json')",
    );
    expect(prop(workbook.body, 'properties.sourceId')?.text).toBe('applicationInsights.id');
    expect(literalString(observability, prop(workbook.body, 'kind'))).toBe('shared');
  });
});

describe('freshness breaches', () => {
  test('when the freshness check logs a new finding, then its line is what the queries match and carries the fields they read', () => {
    const finding = {
      id: '0'.repeat(32),
      kind: 'missing' as const,
      dataset: 'meter_readings' as const,
      source: 'headend_utc',
      date: '2026-01-01',
      deadline: '2026-01-02T06:00:00.000Z',
      graceMinutes: 60,
      dueBy: '2026-01-02T07:00:00.000Z',
      landedAt: null,
      path: null,
      delayMinutes: 95,
      detectedAt: '2026-01-02T07:35:00.000Z',
    };
    const line = formatFreshnessBreach(freshnessBreachLog(finding));
    const logged = Object.keys(JSON.parse(line) as object);
    const queries = [...alertDefinitions().map((a) => a.query), ...workbookQueries().map((q) => q.query)];
    const read = queries.flatMap((q) => kqlReferences(q).jsonFields);

    expect(FRESHNESS_BREACH_EVENT satisfies EventName).toBe('FreshnessBreach');
    expect(line.startsWith(`{"event":"${FRESHNESS_BREACH_EVENT}"`)).toBe(true);
    expect(read.length).toBeGreaterThan(0);
    expect(read.filter((field) => !logged.includes(field))).toEqual([]);
  });
});

describe('the KQL reference check', () => {
  test('when a query names an event the code does not emit, or a dimension its event lacks, then both are reported', () => {
    const query = [
      'customEvents',
      '| where name == "RunFailed" or name == "ActivityFailed"',
      '| summarize n = count() by tostring(customDimensions.verdict), tostring(customDimensions["activity"])',
    ].join('\n');

    expect(unknownReferences(query, EVENT_DIMENSIONS)).toEqual(['event RunFailed', 'dimension verdict']);
  });

  test('when a query names no event, then it is reported (it would read every event)', () => {
    expect(unknownReferences('customEvents | summarize count()', EVENT_DIMENSIONS)).toEqual([
      'no event name',
    ]);
  });
});
