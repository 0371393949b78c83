import { main } from '../../../local/cli/main';

/** Runs the CLI in-process and captures what it prints. */
async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  try {
    const code = await main(argv);
    return { code, stdout, stderr };
  } finally {
    out.mockRestore();
    err.mockRestore();
    process.exitCode = undefined;
  }
}

describe('lakewatt command line', () => {
  it('when asked for help, then it lists the subcommands and exits 0', async () => {
    const result = await run('--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: lakewatt');
    expect(result.stdout).toContain('export-schemas');
  });

  it('when the subcommand is unknown, then it prints one error line and exits 2', async () => {
    const result = await run('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')[0]).toMatch(/unknown command 'frobnicate'/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
