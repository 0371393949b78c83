import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { runCli as run } from '../../helpers/cli';
import { CANONICAL_HEADER, csv } from '../../helpers/validation';

describe('lakewatt validate', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lakewatt-cli-validate-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, content: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, content);
    return file;
  };

  it('when the file is accepted, then it exits 0 and says where the staged output is', async () => {
    const file = write('good.csv', csv(CANONICAL_HEADER, 'M1,2025-01-01T00:00:00Z,30,import,0.5,actual'));
    const result = await run(
      'validate',
      file,
      '--dataset',
      'meter_readings',
      '--source',
      'canonical',
      '--out',
      path.join(dir, 'out'),
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ACCEPTED: /);
    expect(result.stdout).toContain(path.join(dir, 'out', 'staging', 'meter_readings'));
  });

  it('when the file is rejected, then it exits 1 and prints the reason without a stack trace', async () => {
    const file = write('page.csv', '<html><body>Login</body></html>\n');
    const result = await run('validate', file, '--dataset', 'meter_readings', '--source', 'canonical');
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('reason HTML_CONTENT: the file is an HTML or XML page, not data');
    expect(result.stdout + result.stderr).not.toMatch(/\n\s+at /);
  });

  it('when --json is given, then the report is printed as JSON', async () => {
    const file = write('good.csv', csv(CANONICAL_HEADER, 'M1,2025-01-01T00:00:00Z,30,import,0.5,actual'));
    const result = await run(
      'validate',
      file,
      '--dataset',
      'meter_readings',
      '--source',
      'canonical',
      '--json',
    );
    expect((JSON.parse(result.stdout) as { counts: { rowsValid: number } }).counts.rowsValid).toBe(1);
  });

  it('when the source is unknown, then it exits 2 naming the known sources', async () => {
    const file = write('good.csv', 'x\n');
    const result = await run('validate', file, '--dataset', 'meter_readings', '--source', 'nope');
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^lakewatt: UNKNOWN_SOURCE: No source contract for dataset 'meter_readings' and source 'nope'/,
    );
  });

  it('when the file does not exist, then it exits 2 with one line', async () => {
    const result = await run(
      'validate',
      path.join(dir, 'missing.csv'),
      '--dataset',
      'meter_readings',
      '--source',
      'canonical',
    );
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});
