import type { AuditRecord } from '../../../lib/audit';
import type { RunDetail } from '../../../lib/pipeline/runsQuery';
import { runSummaryText, veeLines } from '../../../local/cli/runs';

const VEE = {
  meterDays: 20,
  completeMeterDays: 19,
  missingIntervals: 8,
  estimatedIntervals: { like_day: 4, linear: 3 },
  findings: { spike: 1, gap: 2 },
};

function run(audit: AuditRecord | null): RunDetail & { audit: AuditRecord | null } {
  return {
    kind: 'ingest',
    instanceId: 'ingest-a',
    runtimeStatus: 'Completed',
    stage: 'completed',
    batch: null,
    verdict: 'accepted',
    generation: 0,
    dataset: 'meter_readings',
    source: 'highland',
    path: 'landing/meter_readings/highland/2025/09/28/a.csv',
    etag: '0x1',
    createdTime: '2025-09-29T00:00:00.000Z',
    lastUpdatedTime: '2025-09-29T00:01:00.000Z',
    auditPath: 'audit/runs/2025/09/29/ingest-a/0.json',
    trigger: 'event',
    requestedAt: '2025-09-29T00:00:00.000Z',
    requestedBy: null,
    pull: null,
    customStatus: null,
    output: null,
    error: null,
    audit,
  };
}

function audit(extra: Partial<AuditRecord> = {}): AuditRecord {
  return {
    schemaVersion: 1,
    kind: 'ingestFile',
    instanceId: 'ingest-a',
    generation: 0,
    trigger: 'event',
    requestedAt: '2025-09-29T00:00:00.000Z',
    startedAt: '2025-09-29T00:00:01.000Z',
    endedAt: '2025-09-29T00:01:00.000Z',
    file: {
      container: 'bronze',
      path: 'landing/meter_readings/highland/2025/09/28/a.csv',
      etag: '0x1',
      size: 10,
      sha256: null,
      sequencer: null,
      eventId: null,
    },
    sourceContract: { dataset: 'meter_readings', source: 'highland' },
    outputs: { staging: null, quarantine: null },
    verdict: 'accepted',
    status: 'completed',
    validation: null,
    reasons: [],
    databricksRuns: [],
    stages: [],
    error: null,
    ...extra,
  };
}

describe('runs show: VEE outcome', () => {
  it('when a file has a VEE outcome, then it reads meter-days complete, estimates per method and rules fired', () => {
    expect(veeLines(VEE)).toEqual([
      '  vee         19 of 20 meter-days complete, 8 intervals still missing',
      '  estimated   7 intervals: like_day 4, linear 3',
      '  findings    gap 2, spike 1',
    ]);
  });

  it('when nothing was estimated and no rule fired, then both read none', () => {
    const clean = {
      ...VEE,
      completeMeterDays: 20,
      missingIntervals: 0,
      estimatedIntervals: {},
      findings: {},
    };
    expect(veeLines(clean).slice(1)).toEqual(['  estimated   none', '  findings    none']);
  });

  it('when the audit record has a VEE outcome, then the run summary shows it', () => {
    const text = runSummaryText(run(audit({ vee: VEE })));
    expect(text).toContain('\n  vee         19 of 20 meter-days complete, 8 intervals still missing\n');
  });

  it('when the audit record has no VEE outcome (another dataset, an older record), then the summary has no VEE lines', () => {
    const text = runSummaryText(run(audit()));
    expect(text).not.toMatch(/^ {2}(vee|estimated|findings) /m);
  });
});
