import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LakewattError } from '../../../lib/errors';
import { LocalLakeStore } from '../../../lib/lake';
import { jobManifestPath, readJobManifest } from '../../../lib/pipeline/steps';
import { VEE_MANIFEST } from '../../fixtures/vee';

let root: string;
let lake: LocalLakeStore;
const RUN = { instanceId: 'batch-silver.contracts-0a0b0c0d-000001', generation: 0, step: 'silver' as const };

beforeEach(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-manifest-'));
  lake = new LocalLakeStore({ root });
  await lake.ensureContainer('audit');
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

async function writeManifest(body: Record<string, unknown>): Promise<void> {
  await lake.createOnly(
    'audit',
    jobManifestPath(RUN.instanceId, RUN.generation, RUN.step),
    JSON.stringify(body),
  );
}

const TABLE = {
  table: 'silver.contracts',
  action: 'merge',
  version: 3,
  previousVersion: 2,
  operation: 'MERGE',
};

describe('readJobManifest', () => {
  it('when a silver run of contracts lists stale days, then the summary has its commits and those days', async () => {
    await writeManifest({ tables: [TABLE], affectedDates: ['2025-10-25', '2025-10-26'] });

    const summary = await readJobManifest(lake, RUN);

    expect(summary?.affectedDates).toEqual(['2025-10-25', '2025-10-26']);
    expect(summary?.commits.map((c) => [c.table, c.version])).toEqual([['silver.contracts', 3]]);
  });

  it('when a manifest predates affectedDates, then it has no stale days', async () => {
    await writeManifest({ tables: [TABLE] });

    expect((await readJobManifest(lake, RUN))?.affectedDates).toEqual([]);
  });

  it.each([['2025/10/26'], [20251026], [null]])(
    'when affectedDates holds %p, then the manifest is refused as MANIFEST_INVALID',
    async (day) => {
      await writeManifest({ tables: [TABLE], affectedDates: [day] });

      const read = readJobManifest(lake, RUN);

      await expect(read).rejects.toBeInstanceOf(LakewattError);
      await expect(read).rejects.toMatchObject({ code: 'MANIFEST_INVALID' });
    },
  );

  describe('vee (silver of meter readings)', () => {
    const VEE = VEE_MANIFEST;

    it('when the manifest has a vee summary, then the summary carries it as written', async () => {
      await writeManifest({ tables: [TABLE], vee: VEE });

      expect((await readJobManifest(lake, RUN))?.vee).toEqual(VEE);
    });

    it('when a vee summary holds a rule code not known today, then it is read like any other', async () => {
      await writeManifest({ tables: [TABLE], vee: { ...VEE, findings: { stuck_register: 4 } } });

      expect((await readJobManifest(lake, RUN))?.vee?.findings).toEqual({ stuck_register: 4 });
    });

    it.each([
      ['a manifest from before VEE', {}],
      ['a null vee', { vee: null }],
    ])('when it is %s, then the summary has no vee', async (_what, extra) => {
      await writeManifest({ tables: [TABLE], ...extra });

      const summary = await readJobManifest(lake, RUN);

      expect(summary).not.toBeNull();
      expect(summary).not.toHaveProperty('vee');
    });

    it.each([
      ['a count that is text', 'vee.meterDays', { ...VEE, meterDays: '40' }],
      ['a negative finding count', 'vee.findings.gap', { ...VEE, findings: { gap: -1 } }],
      ['a day not in YYYY-MM-DD', 'vee.days.0', { ...VEE, days: ['28.09.2025'] }],
      ['no byInstance', 'vee.byInstance', { ...VEE, byInstance: undefined }],
      [
        'a file outcome without meterDays',
        'vee.byInstance.ingest-a.meterDays',
        { ...VEE, byInstance: { 'ingest-a': { ...VEE.byInstance['ingest-a'], meterDays: undefined } } },
      ],
    ])('when vee has %s, then MANIFEST_INVALID names %s', async (_what, field, vee) => {
      await writeManifest({ tables: [TABLE], vee });

      const read = readJobManifest(lake, RUN);

      await expect(read).rejects.toMatchObject({
        code: 'MANIFEST_INVALID',
        message: expect.stringContaining(`the silver run manifest's ${field} is invalid`) as unknown,
      });
    });
  });

  it('when the job wrote no manifest, then there is no summary', async () => {
    expect(await readJobManifest(lake, RUN)).toBeNull();
  });
});
