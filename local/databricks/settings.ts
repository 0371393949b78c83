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
  const parse = <T>(key: keyof typeof SETTINGS, schema: { safeParse(v: unknown): { success: boolean; data?: T } }): T => {
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
