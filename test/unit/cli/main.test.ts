import { runCli as run } from '../../helpers/cli';

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
