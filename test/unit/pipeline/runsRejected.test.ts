import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LocalLakeStore } from '../../../lib/lake';
import type { IngestInput } from '../../../lib/pipeline/ingest';
import type { InstanceLike } from '../../../lib/pipeline/runsList';
import {
  MAX_REJECTED_PAGE,
  parseRejectedRowsQuery,
  readRejectedRows,
  RejectedRowsUnreadableError,
} from '../../../lib/pipeline/runsRejected';
import { RunsApiError } from '../../../lib/pipeline/runsRequest';
import { bronzeStageRequest, stagingPrefix, validateAndStage } from '../../../lib/validation/stage';
import { CANONICAL_HEADER, contractOf, csv, TEST_LIMITS, TEST_NOW } from '../../helpers/validation';

const ID = 'ingest-meter_readings-0123456789abcdef0123456789abcdef';
const BRONZE = 'landing/meter_readings/test/2025/01/02/readings.csv';
// Physical lines 3, 5 and 6 are bad (the header is line 1); max_rejected_share lets the file through.
const CONTENT = csv(
  CANONICAL_HEADER,
  'M1,2025-01-01T00:00:00Z,30,import,0.5,actual',
  'M1,2025-01-01T00:30:00Z,30,import,-1,actual',
  'M1,2025-01-01T01:00:00Z,30,import,1,actual',
  'M1,2025-01-01T01:30:00Z,30,import,abc,actual',
  'M1,2025-01-01T02:00:00Z,30,import,-2,actual',
  'M1,2025-01-01T02:30:00Z,30,import,1,actual',
);
const BAD_LINES = [3, 5, 6];

let root: string;
let lake: LocalLakeStore;

beforeEach(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-rejected-'));
  lake = new LocalLakeStore({ root });
  for (const container of ['bronze', 'staging', 'quarantine']) await lake.ensureContainer(container);
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

function instance(
  generation: number,
  dataset: IngestInput['file']['dataset'] = 'meter_readings',
): InstanceLike {
  return {
    name: 'ingestFile',
    instanceId: ID,
    runtimeStatus: 'Completed',
    input: {
      file: {
        container: 'bronze',
        path: BRONZE,
        etag: '0x1',
        dataset,
        source: 'test',
        fileName: 'readings.csv',
        size: CONTENT.length,
        sequencer: null,
        eventId: null,
        eventTime: null,
      },
      generation,
      requestedAt: '2026-01-02T03:04:05.000Z',
      trigger: 'event',
      policy: {
        pollMinSeconds: 5,
        pollMaxSeconds: 60,
        deadlineMinutes: 120,
        outageMinutes: 60,
        silverJob: 's',
        goldJob: 'g',
        batch: { maxFiles: 1, maxRows: 1, maxBytes: 1, waitMinutes: 1, lingerSeconds: 0, byDataset: {} },
      },
    },
    createdTime: '2026-01-02T03:04:05.000Z',
    lastUpdatedTime: '2026-01-02T03:05:05.000Z',
  };
}

async function stage(generation: number): Promise<void> {
  const { etag } = await lake
    .createOnly('bronze', BRONZE, CONTENT)
    .catch(async () => lake.properties('bronze', BRONZE));
  await validateAndStage(
    lake,
    bronzeStageRequest(lake, {
      contract: contractOf({ max_rejected_share: 0.6 }),
      instanceId: ID,
      generation,
      now: TEST_NOW,
      limits: TEST_LIMITS,
      path: BRONZE,
      etag,
    }),
  );
}

const query = (text: string) => parseRejectedRowsQuery(new URLSearchParams(text));

describe('parseRejectedRowsQuery', () => {
  it('when nothing is given, then it reads the first 100 rows of the run’s own generation', () => {
    expect(query('')).toEqual({ offset: 0, top: 100 });
  });

  it('when top is above the limit, then it answers INVALID_REQUEST naming top', () => {
    expect(() => query(`top=${MAX_REJECTED_PAGE + 1}`)).toThrow(/top: must be at most 1000/);
  });

  it('when an unknown parameter is given, then it is refused by name', () => {
    expect(() => query('verdict=rejected')).toThrow(/verdict: unknown parameter/);
  });

  it('when offset is not a whole number, then it is refused', () => {
    expect(() => query('offset=-3')).toThrow(RunsApiError);
  });
});

describe('readRejectedRows', () => {
  it('when a file had rejected rows, then each comes back with its line and reason codes', async () => {
    await stage(0);
    const page = await readRejectedRows(lake, instance(0), query(''));
    expect(page.path).toBe(`quarantine/${stagingPrefix('meter_readings', ID, 0)}rejected.ndjson`);
    expect(page.rows.map((row) => row.line)).toEqual(BAD_LINES);
    expect(page.rows.map((row) => row.reasons.map((r) => r.code))).toEqual([
      ['NEGATIVE_VALUE'],
      ['INVALID_NUMBER'],
      ['NEGATIVE_VALUE'],
    ]);
    expect(page.rows[0]!.raw).toBe('M1,2025-01-01T00:30:00Z,30,import,-1,actual');
    expect(page.nextOffset).toBeNull();
  });

  it('when a page is smaller than the rows, then the next offset continues where it stopped', async () => {
    await stage(0);
    const first = await readRejectedRows(lake, instance(0), query('top=2'));
    expect(first.rows.map((row) => row.line)).toEqual(BAD_LINES.slice(0, 2));
    expect(first.nextOffset).toBe(2);
    const second = await readRejectedRows(lake, instance(0), query(`top=2&offset=${first.nextOffset}`));
    expect(second.rows.map((row) => row.line)).toEqual(BAD_LINES.slice(2));
    expect(second.nextOffset).toBeNull();
  });

  it('when an earlier generation is asked for, then its own folder is read', async () => {
    await stage(0);
    const page = await readRejectedRows(lake, instance(1), query('generation=0'));
    expect(page.generation).toBe(0);
    expect(page.rows).toHaveLength(BAD_LINES.length);
  });

  it('when the generation rejected nothing, then the page is empty and names no file', async () => {
    const page = await readRejectedRows(lake, instance(0), query(''));
    expect(page).toMatchObject({ path: null, rows: [], nextOffset: null });
  });

  it('when a later generation than the run has is asked for, then it answers 404 GENERATION_NOT_FOUND', async () => {
    await expect(readRejectedRows(lake, instance(0), query('generation=1'))).rejects.toMatchObject({
      status: 404,
      code: 'GENERATION_NOT_FOUND',
    });
  });

  it('when the dataset holds PII columns, then the raw lines are withheld and the reasons kept', async () => {
    const prefix = stagingPrefix('customers', ID, 0);
    const row = {
      line: 7,
      rows: 1,
      raw: 'C1,Jane Doe,jane@example.com',
      reasons: [{ code: 'X', message: 'm' }],
    };
    await lake.createOnly('quarantine', `${prefix}rejected.ndjson`, `${JSON.stringify(row)}\n`);
    const page = await readRejectedRows(lake, instance(0, 'customers'), query(''));
    expect(page.rawWithheld).toBe(true);
    expect(page.rows).toEqual([
      { line: 7, column: null, rows: 1, raw: null, reasons: [{ code: 'X', message: 'm', column: null }] },
    ]);
  });

  it('when the file holds a line that is not a rejected row, then it fails with REJECTED_ROWS_UNREADABLE', async () => {
    const prefix = stagingPrefix('meter_readings', ID, 0);
    await lake.createOnly('quarantine', `${prefix}rejected.ndjson`, '{"line": "x"}\n');
    await expect(readRejectedRows(lake, instance(0), query(''))).rejects.toBeInstanceOf(
      RejectedRowsUnreadableError,
    );
  });

  it('when the run is a price pull, then it answers 400 NOT_AN_INGESTION', async () => {
    const pull: InstanceLike = { ...instance(0), name: 'pullPrices', input: { provider: 'x' } };
    await expect(readRejectedRows(lake, pull, query(''))).rejects.toMatchObject({
      status: 400,
      code: 'NOT_AN_INGESTION',
    });
  });
});
