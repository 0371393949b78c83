import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { LakewattError } from '../../../lib/errors';
import { LocalLakeStore } from '../../../lib/lake';
import { jobManifestPath, readJobManifest } from '../../../lib/pipeline/steps';

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

  it('when the job wrote no manifest, then there is no summary', async () => {
    expect(await readJobManifest(lake, RUN)).toBeNull();
  });
});
