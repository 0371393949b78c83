import { Command, CommanderError } from 'commander';

import { ensureError, LakewattError, UsageError } from '../../lib/errors';
import { registerCommands } from './commands';

/**
 * Entry of `bin/lakewatt`. Errors print one line and exit non-zero; `--verbose` adds the stack trace.
 * Exit codes: 0 success, 1 the command ran and its answer is "no" (e.g. a rejected file), 2 usage or
 * configuration error, 3 anything unexpected.
 */
/** Errors in what the user asked for (flags, settings, contracts), as opposed to answers about data. */
const USAGE_CODES = new Set(['CONFIG_INVALID', 'CONTRACT_INVALID', 'UNKNOWN_SOURCE']);

export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const program = new Command('lakewatt')
    .description(
      'Lakewatt: event-driven ingestion for an energy lakehouse (local tools and embedded runtime).',
    )
    .option('--verbose', 'show stack traces on errors')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) })
    .showSuggestionAfterError();
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (thrown) {
    if (thrown instanceof CommanderError) {
      // help and version exit through here with code 0; commander has already printed its message.
      return thrown.exitCode === 0 ? 0 : 2;
    }
    const error = ensureError(thrown);
    const code = error instanceof LakewattError ? error.code : 'UNEXPECTED';
    process.stderr.write(`lakewatt: ${code}: ${error.message}\n`);
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    if (error instanceof UsageError || USAGE_CODES.has(code)) return 2;
    return error instanceof LakewattError ? 1 : 3;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
