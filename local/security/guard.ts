import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * The checks both local servers (the Functions host and the Jobs emulator) make before they route a
 * request, against the two ways a loopback server is reached by someone other than its user: a web page
 * in the user's browser (cross-site requests, DNS rebinding) and another local process (docs/security/
 * local-runtime.md). Each failed check is a status with a reason code and a one-line message; each server
 * answers it in its own error shape.
 */

export interface GuardRefusal {
  status: 401 | 403 | 415 | 421;
  code: 'UNAUTHENTICATED' | 'FORBIDDEN_ORIGIN' | 'UNSUPPORTED_MEDIA_TYPE' | 'MISDIRECTED_REQUEST';
  message: string;
}

/** The names the server answers to: its loopback address or `localhost`, with its port. */
function ownAuthorities(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/**
 * The Host header must name this server. A page on another site that rebinds its DNS name to 127.0.0.1
 * still sends its own name here, so it gets 421 Misdirected Request and no answer from this server.
 */
export function checkHost(req: IncomingMessage, port: number): GuardRefusal | undefined {
  const host = req.headers.host?.toLowerCase();
  if (host !== undefined && ownAuthorities(port).includes(host)) return undefined;
  return {
    status: 421,
    code: 'MISDIRECTED_REQUEST',
    message: `This server answers to 127.0.0.1:${port} and localhost:${port} only; the Host header named ${JSON.stringify(req.headers.host ?? '')}.`,
  };
}

/**
 * A browser sends an Origin header with every cross-site POST (and with fetches): only this server's own
 * origin may call it. Programs (the CLI, the durable client, curl) send none.
 */
export function checkOrigin(req: IncomingMessage, port: number): GuardRefusal | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  if (ownAuthorities(port).some((authority) => origin.toLowerCase() === `http://${authority}`))
    return undefined;
  return {
    status: 403,
    code: 'FORBIDDEN_ORIGIN',
    message: `Requests from web pages of other origins are refused (Origin ${JSON.stringify(origin)}).`,
  };
}

/** JSON media types: application/json and the structured `+json` ones (CloudEvents). */
export function isJsonContentType(header: string | undefined): boolean {
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/**
 * A body the server parses must say it is JSON. A web page can send text/plain or form bodies to any
 * server without asking first (a "simple" request); it cannot send application/json that way.
 */
export function checkJsonBody(req: IncomingMessage, body: Buffer): GuardRefusal | undefined {
  if (body.length === 0 || isJsonContentType(req.headers['content-type'])) return undefined;
  return {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: `The request body must be JSON (Content-Type: application/json); got ${JSON.stringify(req.headers['content-type'] ?? 'none')}.`,
  };
}

/** Compares a presented secret with the expected one in constant time (over digests, whatever the lengths). */
export function secretMatches(presented: string | undefined, expected: string): boolean {
  if (presented === undefined) return false;
  const digest = (text: string): Buffer => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function unauthenticated(message: string): GuardRefusal {
  return { status: 401, code: 'UNAUTHENTICATED', message };
}

/** Host and Origin, the checks every route makes. */
export function checkCaller(req: IncomingMessage, port: number): GuardRefusal | undefined {
  return checkHost(req, port) ?? checkOrigin(req, port);
}
