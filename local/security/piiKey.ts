import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { type LakewattConfig, SETTINGS } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

/**
 * The development PII hashing key of a local state folder: `$LAKEWATT_HOME/secrets/pii-hash-key`. Unlike the
 * per-start secrets (secrets.ts), it is made once and kept: masked values in silver are keyed hashes, so a new
 * key would change every masked value of every later run. Local mode only; in Azure the key lives in Key
 * Vault and the Databricks secret scope and is never generated.
 */
export const DEV_PII_KEY_FILE = 'pii-hash-key';

export function developmentPiiKeyFile(home: string): string {
  return path.join(path.resolve(home), 'secrets', DEV_PII_KEY_FILE);
}

function readKey(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw thrown;
  }
  // Never regenerate over a bad file: the masked values already written depend on the key it held.
  if (!SETTINGS.PII_HASH_KEY.schema.safeParse(text).success) {
    throw new ConfigError([
      `PII_HASH_KEY: the development key file ${file} does not hold a key of at least 16 characters; set PII_HASH_KEY or remove the file to make a new key (masked values change)`,
    ]);
  }
  // A key others could read is tightened rather than refused: it only ever masks local data.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return text;
}

/**
 * The development PII key of `home`, made on first use: mode 0600 in a 0700 folder, created only if absent
 * (written to a fresh temporary name, then hard-linked into place, which fails if another process got there
 * first; that process's key is then read and used), so every start and every process share one key.
 */
export function ensureDevelopmentPiiKey(home: string): { key: string; created: boolean } {
  const file = developmentPiiKeyFile(home);
  const existing = readKey(file);
  if (existing !== undefined) return { key: existing, created: false };
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const key = randomBytes(32).toString('base64url');
  const temp = path.join(dir, `.${DEV_PII_KEY_FILE}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(temp, `${key}\n`, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(temp, file);
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code !== 'EEXIST') throw thrown;
    return { key: readKey(file)!, created: false };
  } finally {
    unlinkSync(temp);
  }
  return { key, created: true };
}

/**
 * The PII key the local Jobs emulator hands its tasks: PII_HASH_KEY when set, else (local mode only) the
 * state folder's development key, announced through `log` so nobody mistakes it for a managed one.
 */
export function localPiiKey(config: LakewattConfig, log: (line: string) => void): string | undefined {
  if (config.piiHashKey !== undefined || config.mode !== 'local') return config.piiHashKey;
  const { key, created } = ensureDevelopmentPiiKey(config.home);
  log(
    `PII_HASH_KEY is unset: using the development key in ${developmentPiiKeyFile(config.home)}` +
      `${created ? ' (made now)' : ''}; local only, set PII_HASH_KEY to choose one`,
  );
  return key;
}
