import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { consoleAsset, readConsoleAsset } from '../../../lib/console/assets';

/* Which file of the built console a request path names, shared by the local server and the Function App. */

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-console-assets-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>page</title>');
  writeFileSync(path.join(dir, 'main.js'), 'export const page = 1;');
  writeFileSync(path.join(dir, 'main.css'), 'body { margin: 0 }');
  // Outside the console's folder: a traversal must never reach it.
  writeFileSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.html`), 'secret');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(path.join(path.dirname(dir), `${path.basename(dir)}-secret.html`), { force: true });
});

describe('console assets', () => {
  it('when the root is asked for, then it is index.html as HTML', () => {
    expect(consoleAsset('')).toEqual({
      kind: 'file',
      file: 'index.html',
      contentType: 'text/html; charset=utf-8',
    });
  });

  it('when the script and stylesheet are asked for, then each has its own content type', () => {
    expect(consoleAsset('main.js')).toEqual({
      kind: 'file',
      file: 'main.js',
      contentType: 'text/javascript; charset=utf-8',
    });
    expect(consoleAsset('main.css')).toEqual({
      kind: 'file',
      file: 'main.css',
      contentType: 'text/css; charset=utf-8',
    });
  });

  it('when a path climbs out of the folder or names a folder, then it is refused before any file is read', () => {
    const secret = `../${path.basename(dir)}-secret.html`;
    for (const attempt of [
      secret,
      '..',
      '.',
      'a/main.js',
      '..\\main.js',
      '%2e%2e/x.html',
      '/etc/passwd',
      '.env',
    ]) {
      expect([attempt, consoleAsset(attempt)]).toEqual([
        attempt,
        expect.objectContaining({ code: 'ASSET_PATH_INVALID' }),
      ]);
    }
  });

  it('when a file has an extension the console does not serve, then it is refused', () => {
    expect(consoleAsset('server.ts')).toMatchObject({ kind: 'refused', code: 'ASSET_TYPE_UNKNOWN' });
  });

  it('when a file is read, then the reply carries it with the content security policy', async () => {
    const reply = await readConsoleAsset(dir, 'main.js');

    expect(reply.status).toBe(200);
    expect(reply.body.toString()).toBe('export const page = 1;');
    expect(reply.headers['content-security-policy']).toContain("default-src 'none'");
    expect(reply.headers['x-content-type-options']).toBe('nosniff');
  });

  it('when a traversal is asked for, then the reply is 404 and does not hold the file outside', async () => {
    const reply = await readConsoleAsset(dir, `../${path.basename(dir)}-secret.html`);

    expect(reply.status).toBe(404);
    expect(reply.body.toString()).not.toContain('secret\n');
    expect(reply.body.toString()).not.toBe('secret');
  });

  it('when a flat file the built page lacks is asked for, then the reply is 404', async () => {
    expect((await readConsoleAsset(dir, 'other.js')).status).toBe(404);
  });

  it('when the page was never built, then the reply is 503 saying how to build it', async () => {
    const reply = await readConsoleAsset(path.join(dir, 'missing'), '');

    expect(reply.status).toBe(503);
    expect(reply.body.toString()).toContain('make build');
  });
});
