/**
 * The console token of this start (local/console/server.ts): the page reads it from the address it was opened
 * with (main.tsx) and sends it with every API call. In a module of its own, free of the DOM, so the request
 * code stays testable under Node.
 */
let token = '';

export function setToken(value: string): void {
  token = value;
}

export function authHeaders(): Record<string, string> {
  return token ? { 'x-lakewatt-console-token': token } : {};
}
