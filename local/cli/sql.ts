import path from 'node:path';

import type { Command } from 'commander';

import { type LakewattConfig, loadConfig } from '../../lib/config';
import { SqlClient, type StatementResult, StaticTokenProvider, toRecords } from '../../lib/databricks';
import { UsageError } from '../../lib/errors';
import { readJobsLock } from '../databricks/emulator';
import { startLocalJobsEmulator } from '../databricks/start';
import { readLocalSecret } from '../security/secrets';

interface SqlOptions {
  json?: boolean;
  rowLimit?: string;
  timeout?: string;
  warehouse?: string;
}

/** The local emulator serves one SQL warehouse and accepts any id; this one names it in requests. */
export const LOCAL_WAREHOUSE_ID = 'lakewatt-local';

const NUMERIC = new Set(['BYTE', 'SHORT', 'INT', 'LONG', 'FLOAT', 'DOUBLE', 'DECIMAL']);

function positiveInteger(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new UsageError(`${flag}: not a positive integer: ${text}`);
  return value;
}

/** Whether an emulator answers on `url` for this state folder (its health route names its home). */
async function servesHome(url: string, token: string | undefined, home: string): Promise<boolean> {
  if (token === undefined) return false;
  try {
    const response = await fetch(`${url}/lakewatt/health`, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!response.ok) return false;
    const health = (await response.json()) as { home?: unknown };
    return typeof health.home === 'string' && path.resolve(health.home) === home;
  } catch {
    return false;
  }
}

/**
 * Runs `fn` against the Jobs emulator of the state folder, with its token: a running one (`lakewatt dev`,
 * `lakewatt jobs serve`) found through its lock file, or on the configured port, with the token it wrote
 * to `$LAKEWATT_HOME/secrets/jobs-token`; otherwise an emulator started for the duration of `fn` (on a free
 * port) and stopped afterwards.
 */
export async function withJobsEmulator<T>(
  config: LakewattConfig,
  fn: (url: string, token: string) => Promise<T>,
): Promise<T> {
  const home = path.resolve(config.home);
  const token = readLocalSecret(home, 'jobs-token');
  const lock = readJobsLock(home);
  for (const port of [lock?.port, config.local.jobsPort]) {
    if (port === undefined || port === 0) continue;
    const url = `http://127.0.0.1:${port}`;
    if (token !== undefined && (await servesHome(url, token, home))) return fn(url, token);
  }
  process.stderr.write(
    `lakewatt sql: no Jobs emulator runs for ${home}; starting one for this command (a cold Spark start takes ~15 s)\n`,
  );
  const emulator = await startLocalJobsEmulator(config, {
    port: 0,
    log: (line) => process.stderr.write(`jobs-emulator: ${line}\n`),
  });
  try {
    return await fn(emulator.url, emulator.token);
  } finally {
    await emulator.close();
  }
}

/** An aligned text table: a header, a rule, the rows (NULL for null; numbers right-aligned). */
export function formatTable(result: StatementResult): string {
  const header = result.columns.map((c) => c.name);
  const cells = result.rows.map((row) => result.columns.map((_, i) => row[i] ?? 'NULL'));
  const widths = header.map((name, i) => Math.max(name.length, ...cells.map((row) => (row[i] ?? '').length)));
  const right = result.columns.map((c) => NUMERIC.has(c.typeName));
  const line = (values: string[], isHeader: boolean): string =>
    values
      .map((v, i) => (right[i] && !isHeader ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  const count = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'}${result.truncated ? ', truncated' : ''})`;
  return [line(header, true), rule, ...cells.map((row) => line(row, false)), count].join('\n') + '\n';
}

/** `--json`: `{columns: [{name, type}], rows: [{column: value}]}` with values typed back from their columns. */
export function formatJson(result: StatementResult): string {
  return `${JSON.stringify({
    columns: result.columns.map((c) => ({ name: c.name, type: c.typeText })),
    rows: toRecords(result),
  })}\n`;
}

export function registerSql(program: Command): void {
  program
    .command('sql')
    .description(
      'run a read-only Spark SQL statement over the local lake (bronze.<t>, silver.<t>, gold.<t>) on the Jobs emulator',
    )
    .argument('<statement>', 'SELECT, WITH, SHOW, DESCRIBE or EXPLAIN, e.g. "SHOW TABLES IN gold"')
    .option('--json', 'print {columns: [{name, type}], rows: [{column: value}]}')
    .option('--row-limit <n>', 'rows to return at most (default 10000)')
    .option('--timeout <seconds>', 'cancel the statement after this long (default 300)')
    .option('--warehouse <id>', `SQL warehouse id (default ${LOCAL_WAREHOUSE_ID})`)
    .action(async (statement: string, options: SqlOptions) => {
      if (statement.trim() === '') throw new UsageError('the statement is empty');
      const rowLimit = positiveInteger(options.rowLimit, '--row-limit', 10_000);
      const timeoutMs = positiveInteger(options.timeout, '--timeout', 300) * 1000;
      const config = loadConfig();
      const result = await withJobsEmulator(config, (url, token) =>
        new SqlClient({ host: url, tokens: new StaticTokenProvider(token) }).executeStatement(statement, {
          warehouseId: options.warehouse ?? LOCAL_WAREHOUSE_ID,
          waitTimeoutSeconds: 30,
          rowLimit,
          timeoutMs,
        }),
      );
      process.stdout.write(options.json ? formatJson(result) : formatTable(result));
      if (result.truncated)
        process.stderr.write(
          `lakewatt sql: the result was cut at ${result.rows.length} rows (--row-limit)\n`,
        );
    });
}
