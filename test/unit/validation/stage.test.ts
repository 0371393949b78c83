import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { LocalLakeStore, PreconditionFailedError } from '../../../lib/lake';
import type { ValidationReport } from '../../../lib/validation/report';
import {
  bronzeStageRequest,
  REPORT_FILE,
  STAGED_PART,
  validateAndStage,
} from '../../../lib/validation/stage';
import { CANONICAL_HEADER, contractOf, csv, TEST_LIMITS, TEST_NOW } from '../../helpers/validation';

const contract = contractOf({ max_rejected_share: 0.4 });
const GOOD = csv(
  CANONICAL_HEADER,
  'M1,2025-01-01T00:00:00Z,30,import,0.5,actual',
  'M1,2025-01-01T00:30:00Z,30,import,0.25,actual',
);
const ONE_BAD = csv(
  CANONICAL_HEADER,
  'M1,2025-01-01T00:00:00Z,30,import,0.5,actual',
  'M1,2025-01-01T00:30:00Z,30,import,-1,actual',
  'M1,2025-01-01T01:00:00Z,30,import,1,actual',
);
const BRONZE = 'landing/meter_readings/test/2025/01/02/readings.csv';

async function parquetSummary(file: string): Promise<{ rows: string; kwh: number; instance: string }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(
      `SELECT count(*)::VARCHAR AS rows, sum(kwh) AS kwh, min(ingest_instance_id) AS instance FROM '${file}'`,
    );
    return reader.getRowObjectsJson()[0] as { rows: string; kwh: number; instance: string };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

describe('validateAndStage', () => {
  let root: string;
  let lake: LocalLakeStore;

  beforeEach(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-stage-'));
    lake = new LocalLakeStore({ root });
    for (const container of ['bronze', 'staging', 'quarantine']) await lake.ensureContainer(container);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function stage(
    content: string,
    instanceId = 'ingest-1',
    options: { generation?: number; contract?: typeof contract } = {},
  ): Promise<ValidationReport> {
    const { etag } = await lake
      .createOnly('bronze', BRONZE, content)
      .catch(async () => lake.properties('bronze', BRONZE));
    return validateAndStage(
      lake,
      bronzeStageRequest(lake, {
        contract: options.contract ?? contract,
        instanceId,
        generation: options.generation ?? 0,
        now: TEST_NOW,
        limits: TEST_LIMITS,
        path: BRONZE,
        etag,
      }),
    );
  }

  async function listAll(container: string): Promise<string[]> {
    const paths: string[] = [];
    for await (const entry of lake.list(container)) paths.push(entry.path);
    return paths;
  }

  it('when a file is accepted, then its rows are staged as Parquet and the report is written last', async () => {
    const report = await stage(GOOD);
    expect(report.verdict).toBe('accepted');
    expect(await listAll('staging')).toEqual([
      `meter_readings/ingest-1/g0/${REPORT_FILE}`,
      `meter_readings/ingest-1/g0/${STAGED_PART}`,
    ]);
    expect(await parquetSummary(path.join(root, 'staging/meter_readings/ingest-1/g0', STAGED_PART))).toEqual({
      rows: '2',
      kwh: 0.75,
      instance: 'ingest-1',
    });
    expect(await listAll('quarantine')).toEqual([]);
  });

  it('when some rows are rejected, then they are quarantined with reasons and the rest are staged', async () => {
    const report = await stage(ONE_BAD);
    expect(report.verdict).toBe('accepted_with_rejections');
    const rejected = (
      await lake.read('quarantine', 'meter_readings/ingest-1/g0/rejected.ndjson')
    ).data.toString('utf8');
    expect(
      rejected
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { line: number }).line),
    ).toEqual([3]);
    expect(
      (await parquetSummary(path.join(root, 'staging/meter_readings/ingest-1/g0', STAGED_PART))).rows,
    ).toBe('2');
  });

  it('when a file is rejected, then the original is quarantined whole with the report and nothing is staged', async () => {
    const html = '<html><body>Please log in</body></html>\n';
    const report = await stage(html);
    expect(report.reasons.map((r) => r.code)).toEqual(['HTML_CONTENT']);
    expect(await listAll('staging')).toEqual([]);
    expect(
      (await lake.read('quarantine', 'meter_readings/ingest-1/g0/readings.csv')).data.toString('utf8'),
    ).toBe(html);
    expect(
      JSON.parse(
        (await lake.read('quarantine', `meter_readings/ingest-1/g0/${REPORT_FILE}`)).data.toString('utf8'),
      ),
    ).toEqual(report);
  });

  it('when the rejected share is over the threshold, then staged rows are withdrawn and the file quarantined', async () => {
    const report = await stage(
      csv(
        CANONICAL_HEADER,
        'M1,2025-01-01T00:00:00Z,30,import,-0.5,actual',
        'M1,2025-01-01T00:30:00Z,30,import,1,actual',
      ),
    );
    expect(report.reasons.map((r) => r.code)).toEqual(['REJECTED_SHARE_EXCEEDED']);
    expect(await listAll('staging')).toEqual([]);
    expect(await listAll('quarantine')).toEqual([
      'meter_readings/ingest-1/g0/_report.json',
      'meter_readings/ingest-1/g0/readings.csv',
      'meter_readings/ingest-1/g0/rejected.ndjson',
    ]);
  });

  it('when the same instance and generation run again (an activity retry), then the committed report is returned without redoing the work', async () => {
    const first = await stage(GOOD);
    const before = await lake.properties('staging', `meter_readings/ingest-1/g0/${STAGED_PART}`);
    const second = await stage(GOOD);
    expect(second).toEqual(first);
    expect((await lake.properties('staging', `meter_readings/ingest-1/g0/${STAGED_PART}`)).etag).toBe(
      before.etag,
    );
  });

  it('when a new generation of the instance runs after a contract fix, then the file is validated again with the current contract', async () => {
    const strict = contractOf({ max_rejected_share: 0.1 });
    const first = await stage(ONE_BAD, 'ingest-1', { contract: strict });
    const second = await stage(ONE_BAD, 'ingest-1', { generation: 1 });

    expect([first.verdict, second.verdict]).toEqual(['rejected', 'accepted_with_rejections']);
    expect(await listAll('staging')).toEqual([
      `meter_readings/ingest-1/g1/${REPORT_FILE}`,
      `meter_readings/ingest-1/g1/${STAGED_PART}`,
    ]);
    expect(await parquetSummary(path.join(root, 'staging/meter_readings/ingest-1/g1', STAGED_PART))).toEqual({
      rows: '2',
      kwh: 1.5,
      instance: 'ingest-1',
    });
  });

  it('when an earlier attempt crashed half-way, then its leftovers are removed and the file is staged again', async () => {
    await lake.createOnly('staging', `meter_readings/ingest-1/g0/${STAGED_PART}`, 'half a parquet file');
    await lake.createOnly('quarantine', 'meter_readings/ingest-1/g0/rejected.ndjson', '{"line": 99}\n');
    const report = await stage(GOOD);
    expect(report.verdict).toBe('accepted');
    expect(
      (await parquetSummary(path.join(root, 'staging/meter_readings/ingest-1/g0', STAGED_PART))).rows,
    ).toBe('2');
    expect(await listAll('quarantine')).toEqual([]);
  });

  it('when the bronze file changed since its event, then the pinned read fails and nothing is written', async () => {
    const { etag } = await lake.createOnly('bronze', BRONZE, GOOD);
    await lake.overwrite('bronze', BRONZE, ONE_BAD);
    await expect(
      validateAndStage(
        lake,
        bronzeStageRequest(lake, {
          contract,
          instanceId: 'ingest-2',
          generation: 0,
          now: TEST_NOW,
          limits: TEST_LIMITS,
          path: BRONZE,
          etag,
        }),
      ),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    expect(await listAll('staging')).toEqual([]);
  });

  it('when the file name is unsafe, then it is rejected unread and quarantined under a safe name', async () => {
    const { etag } = await lake.createOnly('bronze', BRONZE, GOOD);
    const request = bronzeStageRequest(lake, {
      contract,
      instanceId: 'ingest-3',
      generation: 0,
      now: TEST_NOW,
      limits: TEST_LIMITS,
      path: BRONZE,
      etag,
    });
    const report = await validateAndStage(lake, {
      ...request,
      file: { ...request.file, name: 'bad\u0001name.csv' },
    });
    expect(report.reasons.map((r) => r.code)).toEqual(['UNSAFE_NAME']);
    expect(
      (await lake.read('quarantine', 'meter_readings/ingest-3/g0/original.bin')).data.toString('utf8'),
    ).toBe(GOOD);
  });
});
