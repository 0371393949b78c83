/**
 * Typed errors shared by every layer. Each carries a stable `code` that callers, logs and the audit
 * trail can match on; the message is one human-readable line.
 */
export class LakewattError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting is missing or invalid. Raised once, at start-up, naming every offending key. */
export class ConfigError extends LakewattError {
  constructor(readonly issues: readonly string[]) {
    super('CONFIG_INVALID', `Invalid configuration: ${issues.join('; ')}`);
  }
}

/** A contract file (dataset or source) does not describe a valid contract. */
export class ContractError extends LakewattError {
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super('CONTRACT_INVALID', `Invalid source contract ${file}: ${issues.join('; ')}`);
  }
}

/** A command-line usage error: bad flags or arguments. */
export class UsageError extends LakewattError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

/** Turns any thrown value into an Error, so `catch (e)` blocks can rely on `.message`. */
export function ensureError(value: unknown): Error {
  if (value instanceof Error) return value;
  return new Error(typeof value === 'string' ? value : JSON.stringify(value));
}
