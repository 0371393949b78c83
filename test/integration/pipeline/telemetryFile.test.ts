import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import type { RecordedEvent, RecordedSpan } from '../../../lib/telemetry';
import {
  badHeaderCsv,
  landingPath,
  moduleFile,
  PIPELINE_MODULES,
  type PipelineWorld,
  startPipelineWorld,
} from './support';

/*
 * Telemetry as an operator turns it on locally: TELEMETRY_EXPORTER=file, started by the app's start-up hook
 * (functions/index.ts) on the local host. A file rejected at validation needs no Databricks.
 */

jest.setTimeout(60_000);

let world: PipelineWorld;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lakewatt-telemetry-file-'));
  file = path.join(dir, 'telemetry.jsonl');
  world = await startPipelineWorld({
    modules: [moduleFile('functions/index.ts'), ...PIPELINE_MODULES],
    env: { TELEMETRY_EXPORTER: 'file', TELEMETRY_FILE: file },
  });
});

afterAll(async () => {
  await world?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

it('when telemetry goes to a file and a file is rejected, then its trace and its run’s end are JSON lines there', async () => {
  await world.drop(landingPath('meter_readings', 'headend_utc', '2025-10-26', 'bad.csv'), badHeaderCsv());

  const records = (await fs.readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as RecordedSpan | RecordedEvent);
  const ended = records.find((r): r is RecordedEvent => r.kind === 'event' && r.name === 'IngestRunEnded')!;
  const trace = records.filter((r): r is RecordedSpan => r.kind === 'span' && r.traceId === ended.traceId);

  expect(ended.dimensions).toMatchObject({
    dataset: 'meter_readings',
    source: 'headend_utc',
    verdict: 'rejected',
  });
  expect(trace.map((s) => s.name).sort()).toEqual([
    'activity validateAndStage',
    'activity writeAudit',
    'ingest.start',
  ]);
});
