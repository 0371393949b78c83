import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { AZURITE_PORT_ENV, AZURITE_STATE_ENV, startAzurite } from '../helpers/azurite';

/**
 * Starts one in-memory Azurite (blob service) for the whole integration run, on a free loopback port.
 * Workers find it through AZURITE_BLOB_PORT (set here, inherited by the worker processes jest spawns
 * afterwards); the teardown finds the process id in the state file named by LAKEWATT_AZURITE_STATE.
 *
 * If AZURITE_BLOB_PORT is already set, an Azurite started by someone else is reused and left running.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env[AZURITE_PORT_ENV]) return;
  const repoRoot = path.resolve(__dirname, '..', '..');
  const state = await startAzurite(repoRoot);
  const stateFile = path.join(os.tmpdir(), `lakewatt-azurite-${process.pid}-${state.port}.json`);
  await fs.writeFile(stateFile, JSON.stringify(state));
  process.env[AZURITE_PORT_ENV] = String(state.port);
  process.env[AZURITE_STATE_ENV] = stateFile;
  if (process.env.LAKEWATT_TEST_TIMINGS) {
    process.stderr.write(`\nAzurite ready on port ${state.port} in ${Date.now() - state.startedMs} ms\n`);
  }
}
