import { ensureError, LakewattError } from '../errors';

/**
 * Typed lake errors. Both LakeStore implementations raise exactly these for the same situations, so callers
 * match on the class (or on `code`) and never on an SDK status code or an errno.
 */

/** Where an error happened: a container and, for object operations, a path inside it. */
export interface LakeLocation {
  container: string;
  path?: string;
}

function describe(location: LakeLocation): string {
  return location.path === undefined ? location.container : `${location.container}/${location.path}`;
}

/** Base of the lake errors that concern one location. */
export abstract class LakeError extends LakewattError {
  readonly container: string;
  readonly path: string | undefined;

  protected constructor(code: string, location: LakeLocation, message: string, cause?: unknown) {
    super(code, `${message}: ${describe(location)}`, cause === undefined ? undefined : { cause });
    this.container = location.container;
    this.path = location.path;
  }
}

/** A create-only write (or a create-only copy or move) found the target already there. */
export class AlreadyExistsError extends LakeError {
  constructor(location: LakeLocation, cause?: unknown) {
    super('ALREADY_EXISTS', location, 'Object already exists', cause);
  }
}

/** A conditional operation's eTag no longer matches: the object changed (or vanished) since it was read. */
export class PreconditionFailedError extends LakeError {
  constructor(location: LakeLocation, cause?: unknown) {
    super('PRECONDITION_FAILED', location, 'Object changed since the given eTag', cause);
  }
}

/** The object, or the container that should hold it, does not exist. */
export class NotFoundError extends LakeError {
  constructor(location: LakeLocation, cause?: unknown) {
    super(
      'NOT_FOUND',
      location,
      location.path === undefined ? 'Container not found' : 'Object not found',
      cause,
    );
  }
}

/**
 * A container name, object path or prefix breaks the naming rules (traversal, control characters, empty
 * segments, length limits, ...). Raised before any I/O, so nothing outside the lake is ever touched.
 */
export class UnsafePathError extends LakewattError {
  constructor(
    readonly value: string,
    readonly reason: string,
  ) {
    super('UNSAFE_PATH', `Unsafe lake name ${JSON.stringify(truncate(value))}: ${reason}`);
  }
}

/** Metadata keys or values that Azure would reject (keys must be identifiers, values printable ASCII). */
export class InvalidMetadataError extends LakewattError {
  constructor(reason: string) {
    super('INVALID_METADATA', `Invalid object metadata: ${reason}`);
  }
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/**
 * Like ensureError, but keeps error-like objects as they are. Errors raised by Node's own modules (fs) can
 * come from another realm (jest's sandbox, vm contexts), where `instanceof Error` is false although the
 * value is a real error with `code` and `message`.
 */
export function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && typeof (value as Error).message === 'string') {
    return value as Error;
  }
  return ensureError(value);
}

/** The errno code (`ENOENT`, `EEXIST`, ...) of a Node system error, if it is one. */
export function errnoCode(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const code = (value as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
