import { execFileSync, spawn } from 'node:child_process';
import os from 'node:os';

/**
 * Helpers shared by the validation benchmarks: fresh child processes per measurement (so peak RSS is that
 * measurement's own), machine facts for the report, and plain-text tables.
 */

export const MIB = 1024 * 1024;
export const MB = 1_000_000;

/** Every child prints exactly one line starting with this marker, followed by its JSON result. */
const RESULT_MARKER = '@@bench-result ';

export interface ChildMeasure {
  /** Peak resident set size of the child process, in bytes (getrusage ru_maxrss). */
  peakRssBytes: number;
}

/** Prints a child's result for the parent, adding the child's peak RSS. */
export function reportToParent(result: object): void {
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  process.stdout.write(`${RESULT_MARKER}${JSON.stringify({ ...result, peakRssBytes })}\n`);
}

/**
 * Runs `script args` in a fresh Node process and returns the result it printed. Its stderr and other
 * stdout lines pass through, so progress and errors stay visible.
 */
export async function runChild<T>(script: string, args: string[], nodeArgs: string[] = []): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    let result: T | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text: string) => {
      buffered += text;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.startsWith(RESULT_MARKER)) result = JSON.parse(line.slice(RESULT_MARKER.length)) as T;
        else process.stdout.write(`  | ${line}\n`);
        newline = buffered.indexOf('\n');
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0 && result !== undefined) resolve(result);
      else
        reject(
          new Error(`child ${args.join(' ')} failed (code ${code ?? 'none'}, signal ${signal ?? 'none'})`),
        );
    });
  });
}

export interface MachineInfo {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  platform: string;
  loadAverage: [number, number, number];
}

export function machineInfo(): MachineInfo {
  const [one, five, fifteen] = os.loadavg() as [number, number, number];
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: [round2(one), round2(five), round2(fifteen)],
  };
}

export function describeMachine(info: MachineInfo): string {
  return [
    `date ${info.date}`,
    `${info.cpus} cores (nproc) ${info.cpuModel}`,
    `${info.memoryGiB} GiB RAM`,
    `node ${info.node}`,
    info.platform,
    `load average ${info.loadAverage.join(' ')}`,
  ].join(' | ');
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** 1234567 → "1,234,567". */
export function thousands(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Renders rows as a Markdown table (readable as plain text too). */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Parses `--name value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`unexpected argument '${arg}'`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) args.set(arg.slice(2), 'true');
    else {
      args.set(arg.slice(2), next);
      i++;
    }
  }
  return args;
}

/** DuckDB is loaded only by the children that use it, so it never inflates another child's RSS. */
export async function loadDuckdb(): Promise<typeof import('@duckdb/node-api')> {
  return import('@duckdb/node-api');
}

export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/** What DuckDB reads back from a Parquet file: the cheap cross-checks between outputs. */
export interface ParquetCheck {
  rows: number;
  kwhSum: number;
  firstInterval: string;
  lastInterval: string;
  columns: number;
  /** Rows by their `quality` value (empty when the file has no quality column). */
  quality: Record<string, number>;
}

export async function checkParquet(file: string): Promise<ParquetCheck> {
  const { DuckDBInstance } = await loadDuckdb();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  try {
    await connection.run("SET TimeZone = 'UTC'");
    const source = `read_parquet(${sqlString(file)})`;
    const reader = await connection.runAndReadAll(
      `SELECT count(*), sum(kwh), strftime(min(interval_start), '%Y-%m-%dT%H:%M:%SZ'), ` +
        `strftime(max(interval_start), '%Y-%m-%dT%H:%M:%SZ') FROM ${source}`,
    );
    const [count, sum, first, last] = reader.getRows()[0] ?? [];
    const columns = (await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRows();
    const quality: Record<string, number> = {};
    if (columns.some(([name]) => name === 'quality')) {
      const counts = await connection.runAndReadAll(
        `SELECT quality, count(*) FROM ${source} GROUP BY quality`,
      );
      for (const [value, n] of counts.getRows()) quality[String(value)] = Number(n);
    }
    return {
      rows: Number(count),
      kwhSum: Number(sum),
      firstInterval: String(first),
      lastInterval: String(last),
      columns: columns.length,
      quality,
    };
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Equal up to floating-point summation order. */
export function sameSum(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
}

/** The commit measured, and any uncommitted changes under lib/ (others may be editing the engine). */
export function sourceState(): { commit: string; dirtyLib: string[] } {
  const git = (args: string[]): string => {
    try {
      return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  return {
    commit: git(['rev-parse', '--short', 'HEAD']) || 'unknown',
    dirtyLib: git(['status', '--porcelain', '--', 'lib'])
      .split('\n')
      .filter(Boolean)
      .map((line) => line.slice(3)),
  };
}
