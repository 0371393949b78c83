import { promises as fs } from 'node:fs';

import { AZURITE_PORT_ENV, AZURITE_STATE_ENV, type AzuriteState, stopAzurite } from '../helpers/azurite';

/** Stops the Azurite the global set-up started, by its recorded process id (never by name). */
export default async function globalTeardown(): Promise<void> {
  const stateFile = process.env[AZURITE_STATE_ENV];
  if (!stateFile) return; // an externally started Azurite, or none
  const state = JSON.parse(await fs.readFile(stateFile, 'utf8')) as AzuriteState;
  await stopAzurite(state);
  await fs.rm(stateFile, { force: true });
  delete process.env[AZURITE_STATE_ENV];
  delete process.env[AZURITE_PORT_ENV];
}
