import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { loadSourceContracts } from '../../../lib/contracts/sources';
import { DefectKind, ExpectedVerdict, type Manifest, simulate } from '../../../lib/simulator';
import { validateStream } from '../../../lib/validation/engine';
import type { RejectedRow, ValidationReport } from '../../../lib/validation/report';
import { TEST_LIMITS, TEST_NOW } from '../../helpers/validation';

describe("the simulator's injected defects", () => {
  let dir: string;
  let manifest: Manifest;
  const results = new Map<string, { report: ValidationReport; rejected: RejectedRow[] }>();

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-defects-'));
    manifest = await simulate(dir, {
      meters: 12,
      days: 12,
      start: '2025-09-25',
      seed: 'defects',
      defects: 0.03,
    });
    const registry = await loadSourceContracts(path.join(__dirname, '../../../contracts/sources'));
    for (const file of manifest.files) {
      const rejected: RejectedRow[] = [];
      const report = await validateStream(
        {
          source: createReadStream(path.join(dir, file.path)),
          contract: registry.resolve(file.dataset, file.source),
          file: { path: file.path, etag: file.sha256 },
          instanceId: 'sim',
          now: TEST_NOW,
          limits: TEST_LIMITS,
        },
        {
          writeBatch: () => Promise.resolve(),
          writeRejected: (row) => void rejected.push(row),
          flush: () => Promise.resolve(),
        },
      );
      results.set(file.path, { report, rejected });
    }
  }, 120_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when the simulation injects defects, then it injects every row- and file-level kind', () => {
    const kinds = new Set(manifest.defects.map((d) => d.kind));
    for (const kind of [
      DefectKind.NegativeValue,
      DefectKind.MalformedRow,
      DefectKind.BadTimestamp,
      DefectKind.DuplicateConflicting,
    ]) {
      expect(kinds).toContain(kind);
    }
    expect(manifest.defects.filter((d) => d.verdict === ExpectedVerdict.FileRejected).length).toBeGreaterThan(
      0,
    );
  });

  it('when a defect should reject its row, then a rejection names that file and line', () => {
    const missed = manifest.defects
      .filter((d) => d.verdict === ExpectedVerdict.RowRejected)
      .filter((d) => !results.get(d.file)?.rejected.some((row) => d.lines.includes(row.line)));
    expect(missed).toEqual([]);
  });

  it('when a defect is an identical duplicate, then each file drops exactly that many rows', () => {
    const expected = new Map<string, number>();
    for (const d of manifest.defects.filter((x) => x.verdict === ExpectedVerdict.RowDroppedDuplicate)) {
      expected.set(d.file, (expected.get(d.file) ?? 0) + 1);
    }
    const dropped = new Map(
      [...results]
        .filter(([, r]) => r.report.counts.duplicatesDropped > 0)
        .map(([file, r]) => [file, r.report.counts.duplicatesDropped]),
    );
    expect(dropped).toEqual(expected);
  });

  it('when a defect should reject the whole file, then that file is rejected with a reason', () => {
    for (const d of manifest.defects.filter((x) => x.verdict === ExpectedVerdict.FileRejected)) {
      const report = results.get(d.file)!.report;
      expect({ file: d.file, verdict: report.verdict, reasons: report.reasons.length > 0 }).toEqual({
        file: d.file,
        verdict: 'rejected',
        reasons: true,
      });
    }
  });

  it('when a row was not injected with a defect, then it is not rejected', () => {
    const defectLines = new Set(manifest.defects.flatMap((d) => d.lines.map((line) => `${d.file}:${line}`)));
    const spurious = [...results].flatMap(([file, r]) =>
      r.rejected
        .filter((row) => !defectLines.has(`${file}:${row.line}`))
        .map((row) => `${file}:${row.line} ${row.reasons[0]?.code}`),
    );
    expect(spurious).toEqual([]);
  });

  it('when a file is validated, then the verdict is the one the manifest expects', () => {
    const mismatched = manifest.files
      .map((file) => ({
        file: file.path,
        expected: file.expected_verdict,
        actual: results.get(file.path)!.report.verdict,
      }))
      .filter((x) => x.expected !== x.actual);
    expect(mismatched).toEqual([]);
  });

  it('when spikes and gaps are injected, then they are not validation errors', () => {
    for (const d of manifest.defects.filter((x) => x.kind === DefectKind.Spike)) {
      expect(results.get(d.file)!.rejected.filter((row) => d.lines.includes(row.line))).toEqual([]);
    }
  });
});
