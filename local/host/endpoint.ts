import { readLocalSecret } from '../security/secrets';

/** Where a local Functions host answers, and the key of its start that its protected routes require. */
export interface HostEndpoint {
  baseUrl: string;
  key: string;
}

/** Headers carrying the host key (the function key header a real host also reads). */
export function hostKeyHeaders(
  host: Pick<HostEndpoint, 'key'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return { 'x-functions-key': host.key, ...extra };
}

/** The key the host running on this state folder issued (`$LAKEWATT_HOME/secrets/host-key`), if any. */
export function readHostKey(home: string): string | undefined {
  return readLocalSecret(home, 'host-key');
}
