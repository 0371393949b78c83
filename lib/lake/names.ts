import { InvalidMetadataError, UnsafePathError } from './errors';

/**
 * Naming rules shared by every LakeStore implementation. They are the intersection of what Azure Blob
 * Storage (on HNS accounts) and a local file system accept, plus the project's safety rules, so a name that
 * passes here behaves the same on both back-ends.
 */

/** Longest object path Azure accepts, in characters. */
export const MAX_PATH_LENGTH = 1024;
/** Most path segments Azure accepts in one object name. */
export const MAX_PATH_SEGMENTS = 254;
/** Longest single segment, in UTF-8 bytes: the local file-system limit (NAME_MAX), and HNS's. */
export const MAX_SEGMENT_BYTES = 255;
/** Segments starting with this are reserved for the local store's temporary files. */
export const RESERVED_SEGMENT_PREFIX = '.lakewatt-';

// C0 controls, DEL and C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// A high surrogate not followed by a low one, or a low surrogate not preceded by a high one.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const CONTAINER_NAME = /^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}$/;

/** Why a container name is not acceptable, or undefined when it is. Azure's rules: 3-63 of [a-z0-9-]. */
export function containerNameProblem(name: string): string | undefined {
  if (typeof name !== 'string') return 'not a string';
  if (name.length < 3 || name.length > 63) return 'container names have 3-63 characters';
  if (!CONTAINER_NAME.test(name)) {
    return 'container names use lowercase letters, digits and single hyphens between them';
  }
  return undefined;
}

/**
 * Why an object path is not acceptable, or undefined when it is. Paths are relative, '/'-separated, with
 * no empty, '.' or '..' segments, no segment ending in '.', no backslashes or control characters, and
 * within Azure's length limits.
 */
export function objectPathProblem(path: string): string | undefined {
  if (typeof path !== 'string') return 'not a string';
  if (path.length === 0) return 'empty path';
  if (path.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} characters`;
  if (path.startsWith('/')) return 'absolute path (leading /)';
  return segmentsProblem(path.split('/'));
}

/**
 * Why a listing prefix is not acceptable, or undefined when it is. A prefix is a path that may be empty and
 * may end with '/' (or in the middle of a segment).
 */
export function prefixProblem(prefix: string): string | undefined {
  if (typeof prefix !== 'string') return 'not a string';
  if (prefix.length === 0) return undefined;
  if (prefix.length > MAX_PATH_LENGTH) return `longer than ${MAX_PATH_LENGTH} characters`;
  if (prefix.startsWith('/')) return 'absolute path (leading /)';
  const segments = prefix.split('/');
  // 'a/b/' names whole segments only; in 'a/b' the last segment may be partial ('2025-0').
  const last = segments.pop() ?? '';
  let lastProblem: string | undefined;
  if (last === '.' || last === '..') lastProblem = `'${last}' path segment`;
  else if (last !== '') lastProblem = charactersProblem(last);
  return segmentsProblem(segments) ?? lastProblem;
}

function segmentsProblem(segments: string[]): string | undefined {
  if (segments.length > MAX_PATH_SEGMENTS) return `more than ${MAX_PATH_SEGMENTS} path segments`;
  for (const segment of segments) {
    if (segment === '') return 'empty path segment (// or trailing /)';
    if (segment === '.' || segment === '..') return `'${segment}' path segment`;
    if (segment.endsWith('.')) return 'path segment ends with a dot';
    const problem = charactersProblem(segment);
    if (problem) return problem;
  }
  return undefined;
}

function charactersProblem(segment: string): string | undefined {
  if (segment.includes('\\')) return 'backslash in path';
  if (CONTROL_CHARS.test(segment)) return 'control character in path';
  if (LONE_SURROGATE.test(segment)) return 'invalid Unicode (lone surrogate) in path';
  if (Buffer.byteLength(segment, 'utf8') > MAX_SEGMENT_BYTES) {
    return `path segment longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  if (segment.startsWith(RESERVED_SEGMENT_PREFIX)) {
    return `segments starting with '${RESERVED_SEGMENT_PREFIX}' are reserved`;
  }
  return undefined;
}

export function assertContainerName(name: string): void {
  const problem = containerNameProblem(name);
  if (problem) throw new UnsafePathError(name, problem);
}

export function assertObjectPath(path: string): void {
  const problem = objectPathProblem(path);
  if (problem) throw new UnsafePathError(path, problem);
}

export function assertPrefix(prefix: string): void {
  const problem = prefixProblem(prefix);
  if (problem) throw new UnsafePathError(prefix, problem);
}

/**
 * eTags travel quoted (`"0x8D..."`, HTTP and the Blob SDK) or unquoted (`0x8D...`, some Event Grid
 * payloads). LakeStore returns them unquoted and accepts either form.
 */
export function normalizeEtag(etag: string): string {
  let value = etag.trim();
  if (value.startsWith('W/')) value = value.slice(2);
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  return value;
}

/** The quoted form the HTTP conditional headers need. */
export function quoteEtag(etag: string): string {
  return `"${normalizeEtag(etag)}"`;
}

const METADATA_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Header-safe printable ASCII: metadata travels as x-ms-meta-* HTTP headers.
const METADATA_VALUE = /^[\x20-\x7e]*$/;
const MAX_METADATA_BYTES = 8 * 1024;

/**
 * Validates metadata against Azure's rules and returns it with lowercase keys, the form the Blob service
 * hands back (HTTP headers are case-insensitive), so both back-ends return the same keys.
 */
export function normalizeMetadata(metadata: Record<string, string> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  let bytes = 0;
  for (const [key, value] of Object.entries(metadata ?? {})) {
    if (!METADATA_KEY.test(key))
      throw new InvalidMetadataError(`key ${JSON.stringify(key)} is not an identifier`);
    if (typeof value !== 'string' || !METADATA_VALUE.test(value)) {
      throw new InvalidMetadataError(`value of ${key} must be printable ASCII`);
    }
    if (value !== value.trim()) {
      throw new InvalidMetadataError(`value of ${key} has leading or trailing whitespace`);
    }
    const lower = key.toLowerCase();
    if (lower in result)
      throw new InvalidMetadataError(`key ${key} appears twice (keys are case-insensitive)`);
    result[lower] = value;
    bytes += lower.length + value.length;
  }
  if (bytes > MAX_METADATA_BYTES) throw new InvalidMetadataError(`larger than ${MAX_METADATA_BYTES} bytes`);
  return result;
}
