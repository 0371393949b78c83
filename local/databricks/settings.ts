import { readFileSync } from 'node:fs';
import path from 'node:path';

import { SETTINGS } from '../../lib/config';
import { ConfigError } from '../../lib/errors';
import { type FaultConfig, parseFaults } from './faults';

export interface EmulatorSettings {
  bundleDir: string;
  target: string;
  execution: 'warm' | 'fresh';
  workers: number;
  faults: FaultConfig | undefined;
}

function setting(env: Record<string, string | undefined>, key: string): string | undefined {
  const value = env[key]?.trim();
  return value === '' ? undefined : value;
}

/**
 * The emulator's own settings (LOCAL_JOBS_*), parsed with the schemas in lib/config.ts. LOCAL_JOBS_FAULTS holds
 * JSON, or `@<file>` naming a JSON file.
 */
export function emulatorSettings(env: Record<string, string | undefined> = process.env): EmulatorSettings {
  const parse = <T>(
    key: keyof typeof SETTINGS,
    schema: { safeParse(v: unknown): { success: boolean; data?: T } },
  ): T => {
    const raw = setting(env, key);
    const result = schema.safeParse(raw);
    if (!result.success) throw new ConfigError([`${key}: invalid value ${JSON.stringify(raw)}`]);
    return result.data as T;
  };
  const faultsText = setting(env, 'LOCAL_JOBS_FAULTS');
  let faults: FaultConfig | undefined;
  if (faultsText) {
    let text = faultsText;
    try {
      if (faultsText.startsWith('@')) text = readFileSync(faultsText.slice(1), 'utf8');
      faults = parseFaults(JSON.parse(text) as unknown, 'LOCAL_JOBS_FAULTS');
    } catch (thrown) {
      if (thrown instanceof ConfigError) throw thrown;
      throw new ConfigError([`LOCAL_JOBS_FAULTS: not readable JSON (${(thrown as Error).message})`]);
    }
  }
  return {
    bundleDir: path.resolve(parse<string>('LOCAL_JOBS_BUNDLE_DIR', SETTINGS.LOCAL_JOBS_BUNDLE_DIR.schema)),
    target: parse<string>('LOCAL_JOBS_TARGET', SETTINGS.LOCAL_JOBS_TARGET.schema),
    execution: parse<'warm' | 'fresh'>('LOCAL_JOBS_EXECUTION', SETTINGS.LOCAL_JOBS_EXECUTION.schema),
    workers: parse<number>('LOCAL_JOBS_WORKERS', SETTINGS.LOCAL_JOBS_WORKERS.schema),
    faults,
  };
}

/** Where the project's jobs read and write when the emulator runs them, from the app's configuration. */
export interface LocalRunSettings {
  /** Absolute local lake root (one folder per container): LAKE_ROOT, else $LAKEWATT_HOME/lake. */
  lakeRoot: string;
  /** PII_HASH_KEY, handed to tasks in their environment (never as a job parameter). */
  piiHashKey: string | undefined;
}

/** LAKE_ROOT / LAKEWATT_HOME and PII_HASH_KEY, parsed with the schemas in lib/config.ts (as loadConfig does). */
export function localRunSettings(env: Record<string, string | undefined> = process.env): LocalRunSettings {
  const read = <T>(key: 'LAKEWATT_HOME' | 'LAKE_ROOT' | 'PII_HASH_KEY'): T => {
    const raw = setting(env, key);
    const result = SETTINGS[key].schema.safeParse(raw);
    if (!result.success) {
      const problem = result.error.issues[0]?.message ?? 'invalid value';
      throw new ConfigError([
        `${key}: ${problem}${key === 'PII_HASH_KEY' ? '' : ` (got ${JSON.stringify(raw)})`}`,
      ]);
    }
    return result.data as T;
  };
  const home = path.resolve(read<string>('LAKEWATT_HOME'));
  const lakeRoot = read<string | undefined>('LAKE_ROOT');
  return {
    lakeRoot: path.resolve(lakeRoot ?? path.join(home, 'lake')),
    piiHashKey: read<string | undefined>('PII_HASH_KEY'),
  };
}

/** The bundle variables that hold the lake's container roots, and the container folder each names. */
export const LAKE_ROOT_VARIABLES = {
  staging_root: 'staging',
  silver_root: 'silver',
  gold_root: 'gold',
  audit_root: 'audit',
  bronze_root: 'bronze',
} as const;

/**
 * `file://` URLs of the containers under a local lake root, as bundle variable values (the form the jobs'
 * `*_root` parameters take). The path goes in unencoded, as Hadoop and the jobs' own file helpers read it, so
 * characters a URL would have to escape are refused rather than silently mangled.
 */
export function lakeRootVariables(lakeRoot: string): Record<keyof typeof LAKE_ROOT_VARIABLES, string> {
  const root = path.resolve(lakeRoot).split(path.sep).join('/');
  if (/[\s%#?]/.test(root)) {
    throw new ConfigError([
      `LAKE_ROOT: the local lake root ${JSON.stringify(root)} holds a space, '%', '#' or '?', which a file:// URL cannot carry as is; choose another folder`,
    ]);
  }
  const url = (container: string): string => `file://${root.replace(/\/$/, '')}/${container}/`;
  return Object.fromEntries(
    Object.entries(LAKE_ROOT_VARIABLES).map(([name, container]) => [name, url(container)]),
  ) as Record<keyof typeof LAKE_ROOT_VARIABLES, string>;
}
