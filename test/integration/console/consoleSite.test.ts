import { readFileSync } from 'node:fs';
import path from 'node:path';

import { moduleFile, type PipelineWorld, startPipelineWorld } from '../pipeline/support';

/*
 * functions/consoleSite.ts registered on the local Functions host: the page's routes and the SQL route as the
 * host serves them. Run from the TypeScript sources, the function's folder next to `functions/` is the
 * console's source folder, whose index.html is the one the build copies into dist/console.
 */

jest.setTimeout(60_000);

let world: PipelineWorld;

beforeAll(async () => {
  world = await startPipelineWorld({ modules: [moduleFile('functions/consoleSite.ts')] });
});

afterAll(async () => {
  await world.close();
});

async function get(route: string): Promise<Response> {
  return fetch(`${world.baseUrl}${route}`, { headers: { 'x-functions-key': world.key }, redirect: 'manual' });
}

describe('the console on the Functions host', () => {
  it('when the console root is asked for, then index.html comes with the page’s security headers', async () => {
    const response = await get('/api/console/');

    expect(response.status).toBe(200);
    expect(await response.text()).toBe(readFileSync(path.join(moduleFile('console'), 'index.html'), 'utf8'));
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('when the console is asked for without its trailing slash, then it redirects to the folder', async () => {
    const response = await get('/api/console');

    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/api/console/');
  });

  it('when a path leaves the console folder, then it answers 404', async () => {
    expect((await get('/api/console/..%2Fpackage.json')).status).toBe(404);
    expect((await get('/api/console/src/main.tsx')).status).toBe(404);
  });

  it('when the page runs SQL on the local host, then it answers 503 pointing to the console server', async () => {
    const response = await world.api<{ code: string }>('POST', '/api/2.0/sql/statements', {
      statement: 'SELECT 1',
    });

    expect(response.status).toBe(503);
    expect(response.body.code).toBe('SQL_UNAVAILABLE');
  });
});
