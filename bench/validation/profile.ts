import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { parseArgs, table } from './common';

/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, e.g. from `run.js --profile`): the functions with the
 * most self time, and the project functions with the most total (inclusive) time.
 *
 *   node .lakewatt/bench-build/bench/validation/profile.js [--file X.cpuprofile] [--top 25]
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
  positionTicks?: Array<{ line: number; ticks: number }>;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url ? url.replace(/^.*\/(bench-build|node_modules)\//, '') : '';
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
}

function newest(dir: string): string {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => path.join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  if (!files[0]) throw new Error(`no .cpuprofile in ${dir}`);
  return files[0];
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const file = args.get('file') ?? newest('bench/out/profiles');
  const top = Number(args.get('top') ?? '25');
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let all = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    all += dt;
    const leaf = byId.get(id)!;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const name = label(byId.get(cur)!);
      if (seen.has(name)) continue;
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
  });
  const pct = (us: number): string => `${((100 * us) / all).toFixed(1)}%`;
  const rows = (map: Map<string, number>, filter: (name: string) => boolean): string[][] =>
    [...map.entries()]
      .filter(([name]) => filter(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => [pct(us), (us / 1000).toFixed(0), name]);
  process.stdout.write(`${file}: ${(all / 1e6).toFixed(2)} s sampled\n\nself time\n`);
  process.stdout.write(
    `${table(
      ['self', 'ms', 'function'],
      rows(self, () => true),
    )}\n\n`,
  );
  process.stdout.write('total time, project code (lib/)\n');
  process.stdout.write(
    `${table(
      ['total', 'ms', 'function'],
      rows(total, (n) => n.includes('lib/')),
    )}\n\n`,
  );
  process.stdout.write('hot lines, project code (compiled JavaScript; samples, not ms)\n');
  process.stdout.write(`${table(['samples', 'line', 'source'], hotLines(profile.nodes, top))}\n`);
}

/** Line-level sample counts (V8 records them per function node) for project code, with the line's text. */
function hotLines(nodes: ProfileNode[], top: number): string[][] {
  const ticks = new Map<string, { file: string; line: number; ticks: number }>();
  for (const node of nodes) {
    const url = node.callFrame.url;
    if (!url.includes('/lib/')) continue;
    for (const tick of node.positionTicks ?? []) {
      const key = `${url}:${tick.line}`;
      const entry = ticks.get(key) ?? { file: url.replace(/^file:\/\//, ''), line: tick.line, ticks: 0 };
      entry.ticks += tick.ticks;
      ticks.set(key, entry);
    }
  }
  const sources = new Map<string, string[]>();
  return [...ticks.values()]
    .sort((a, b) => b.ticks - a.ticks)
    .slice(0, top)
    .map((entry) => {
      if (!sources.has(entry.file)) sources.set(entry.file, readFileSync(entry.file, 'utf8').split('\n'));
      const text = (sources.get(entry.file)?.[entry.line - 1] ?? '').trim();
      const where = `${entry.file.replace(/^.*\/bench-build\//, '')}:${entry.line}`;
      return [String(entry.ticks), where, text.length > 90 ? `${text.slice(0, 90)}…` : text];
    });
}

main();
