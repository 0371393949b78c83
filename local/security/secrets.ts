import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { localSecretFile, type LocalSecretName } from '../../lib/config';

/**
 * A new random secret for a local server (the Jobs emulator's token, the Functions host's key), written to
 * `$LAKEWATT_HOME/secrets/<name>` with mode 0600 in a 0700 folder, replacing the one of an earlier start.
 * The file is created fresh (`wx`, so nothing planted at the temporary name is written through) and renamed
 * into place, so a reader sees the old secret or the new one, never half of either. `value` lets an embedder
 * (tests) choose the secret; it is stored the same way.
 */
export function issueLocalSecret(home: string, name: LocalSecretName, value?: string): string {
  const file = localSecretFile(home, name);
  const dir = path.dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const secret = value ?? randomBytes(32).toString('base64url');
  const temp = path.join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(temp, `${secret}\n`, { flag: 'wx', mode: 0o600 });
  renameSync(temp, file);
  return secret;
}

/** The secret a local server on this state folder issued, or undefined when none has started there. */
export function readLocalSecret(home: string, name: LocalSecretName): string | undefined {
  try {
    const text = readFileSync(localSecretFile(home, name), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch (thrown) {
    if ((thrown as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw thrown;
  }
}
