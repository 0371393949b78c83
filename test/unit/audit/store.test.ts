import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { type AuditRecord, auditRecordPath, readAuditRecord, writeAuditRecord } from '../../../lib/audit';
import { LocalLakeStore } from '../../../lib/lake';
import { VEE_OWN_OUTCOME, VEE_TOTALS } from '../../fixtures/vee';

let root: string;
let lake: LocalLakeStore;

beforeEach(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-audit-'));
  lake = new LocalLakeStore({ root });
  await lake.ensureContainer('audit');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    schemaVersion: 1,
    kind: 'ingestFile',
    instanceId: 'ingest-prices-0123',
    generation: 0,
    trigger: 'event',
    requestedAt: '2025-10-26T23:59:59.000Z',
    startedAt: '2025-10-27T00:00:01.000Z',
    endedAt: '2025-10-27T00:00:09.000Z',
    file: {
      container: 'bronze',
      path: 'landing/prices/x/2025/10/26/a.csv',
      etag: '0x1',
      size: 3,
      sha256: null,
      sequencer: null,
      eventId: null,
    },
    sourceContract: { dataset: 'prices', source: 'dayahead' },
    outputs: { staging: null, quarantine: 'quarantine/prices/ingest-prices-0123/' },
    verdict: 'rejected',
    status: 'rejected',
    validation: null,
    reasons: [{ code: 'UNKNOWN_SOURCE', message: 'no contract' }],
    databricksRuns: [],
    stages: [],
    error: null,
    ...overrides,
  };
}

describe('audit records', () => {
  it('when a replay names its requester, then the record keeps it; a record written before the field still reads', async () => {
    const requestedBy = {
      kind: 'entra' as const,
      id: '6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f',
      name: 'ops@example.com',
    };
    await writeAuditRecord(lake, record({ generation: 1, trigger: 'replay', requestedBy }));
    // An older record, as it was written: no requestedBy at all.
    await lake.createOnly(
      'audit',
      auditRecordPath('ingest-prices-0123', 0, '2025-10-26T23:59:59.000Z'),
      JSON.stringify(record()),
    );

    const replayed = await readAuditRecord(lake, 'ingest-prices-0123', 1, '2025-10-26T23:59:59.000Z');
    const older = await readAuditRecord(lake, 'ingest-prices-0123', 0, '2025-10-26T23:59:59.000Z');

    expect([replayed?.requestedBy, older?.requestedBy, older?.status]).toEqual([
      requestedBy,
      undefined,
      'rejected',
    ]);
  });

  it('when a record is written, then it lands under the UTC day the generation was requested', async () => {
    const result = await writeAuditRecord(lake, record());
    expect(result).toEqual({ path: 'runs/2025/10/26/ingest-prices-0123/0.json', created: true });
    const stored = JSON.parse(readFileSync(path.join(root, 'audit', result.path), 'utf8')) as AuditRecord;
    expect(stored.status).toBe('rejected');
  });

  it('when the same generation is written twice, then the first record stays and the second write is a no-op', async () => {
    await writeAuditRecord(lake, record());
    const again = await writeAuditRecord(
      lake,
      record({ status: 'failed', error: { stage: 'audit', code: 'X', message: 'y' } }),
    );
    expect(again.created).toBe(false);
    expect((await readAuditRecord(lake, 'ingest-prices-0123', 0, '2025-10-26T23:59:59.000Z'))?.status).toBe(
      'rejected',
    );
  });

  it('when a replay writes the next generation, then both generations are kept side by side', async () => {
    await writeAuditRecord(lake, record());
    await writeAuditRecord(
      lake,
      record({ generation: 1, requestedAt: '2025-10-28T08:00:00.000Z', trigger: 'replay' }),
    );
    expect(auditRecordPath('ingest-prices-0123', 1, '2025-10-28T08:00:00.000Z')).toBe(
      'runs/2025/10/28/ingest-prices-0123/1.json',
    );
    expect(await readAuditRecord(lake, 'ingest-prices-0123', 1, '2025-10-28T08:00:00.000Z')).toMatchObject({
      generation: 1,
    });
    expect(await readAuditRecord(lake, 'ingest-prices-0123', 0, '2025-10-26T23:59:59.000Z')).toMatchObject({
      generation: 0,
    });
  });

  it('when a meter-readings record carries its VEE outcome and its silver run the totals, then both read back', async () => {
    const vee = VEE_OWN_OUTCOME;
    const totals = VEE_TOTALS;
    const silverRun = {
      step: 'silver' as const,
      job: 'lakewatt-silver',
      runId: 7,
      runPageUrl: null,
      idempotencyToken: 'token',
      sharedWith: null,
      parameters: {},
      outcome: 'Succeeded',
      lifeCycleState: 'TERMINATED',
      resultState: 'SUCCESS',
      stateMessage: null,
      submittedAt: '2025-10-27T00:00:02.000Z',
      endedAt: '2025-10-27T00:00:08.000Z',
      durationMs: 6000,
      polls: 3,
      commits: [],
      vee: totals,
    };
    await writeAuditRecord(
      lake,
      record({
        status: 'completed',
        sourceContract: { dataset: 'meter_readings', source: 'highland' },
        vee,
        databricksRuns: [silverRun],
      }),
    );

    const read = await readAuditRecord(lake, 'ingest-prices-0123', 0, '2025-10-26T23:59:59.000Z');

    expect([read?.vee, read?.databricksRuns[0]?.vee]).toEqual([vee, totals]);
  });

  it('when a record breaks the schema, then it is not written', async () => {
    await expect(writeAuditRecord(lake, { ...record(), generation: -1 })).rejects.toThrow();
    expect(await readAuditRecord(lake, 'ingest-prices-0123', -1, '2025-10-26T23:59:59.000Z')).toBeUndefined();
  });
});
