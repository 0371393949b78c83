import { simulate } from '../../../lib/simulator';
import { listFiles, sha256, tempDir } from './support';

// A high series rate, so the truth file and late-fill files are part of what must repeat byte for byte.
const OPTIONS = {
  meters: 9,
  days: 3,
  start: '2025-03-29',
  interval: 30 as const,
  defects: 0.05,
  seriesDefects: 0.1,
};

function fingerprint(root: string): Map<string, string> {
  return new Map(listFiles(root).map((rel) => [rel, sha256(root, rel)]));
}

describe('simulator determinism', () => {
  const dirs: Array<{ remove: () => void }> = [];
  afterAll(() => dirs.forEach((d) => d.remove()));
  const run = async (seed: string): Promise<Map<string, string>> => {
    const tmp = tempDir(`det-${seed}`);
    dirs.push(tmp);
    await simulate(tmp.dir, { ...OPTIONS, seed });
    return fingerprint(tmp.dir);
  };

  it('when the same seed and options run twice, then every file (manifest included) is byte-identical', async () => {
    const first = await run('7');
    const second = await run('7');
    expect(first.size).toBeGreaterThan(20);
    expect([...first.keys()].filter((rel) => /_fill\.|simulation-truth/.test(rel)).length).toBeGreaterThan(1);
    expect([...second.entries()]).toEqual([...first.entries()]);
  });

  it('when the seed differs, then every regular meter-reading file differs', async () => {
    const regular = /\/(readings|hh|feed)_\d{4}-\d{2}-\d{2}\.(csv|ndjson\.gz)$/;
    const a = await run('7');
    const b = await run('8');
    const hashesB = new Set([...b.values()]);
    const readingsA = [...a.entries()].filter(([rel]) => regular.test(rel));
    expect(readingsA.length).toBe(9);
    expect(readingsA.filter(([, hash]) => hashesB.has(hash))).toEqual([]);
  });
});
