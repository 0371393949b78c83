import { setTimeout as sleep } from 'node:timers/promises';

import type { CloudEvent, EventGridEvent } from '../../lib/events/blobCreatedEvent';

/**
 * Delivering events to a Functions host's Event Grid webhook the way Event Grid does: one POST to
 * `/runtime/webhooks/eventgrid?functionName=<name>` with `aeg-event-type: Notification`, retried on
 * 408, 429, 5xx, timeouts and connection errors.
 *
 * Real Event Grid retries on a schedule of 10 s, 30 s, 1 min, 5 min, 10 min, 30 min, 1 h, 3 h, 6 h, then
 * every 12 h, for up to 24 hours (30 attempts by default), then dead-letters or drops the event. Locally the
 * schedule is scaled down to a short exponential backoff with a bounded number of attempts, and the result
 * is returned to the caller instead of being dead-lettered. Event Grid also retries 404 and other 4xx
 * codes except 400, 401, 403 and 413; locally a 404 means an unknown function name, which a retry cannot
 * fix, so every 4xx other than 408 and 429 is final.
 */

export interface DeliveryOptions {
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** Wait before the first retry, doubled for each further one (default 250 ms). */
  backoffMs?: number;
  /** Longest wait between attempts (default 5000 ms). */
  maxBackoffMs?: number;
  /** How long one attempt may take (default 30 s, as Event Grid waits). */
  timeoutMs?: number;
  /**
   * The host's system key, sent as the `code` query parameter (the key an Event Grid subscription's
   * endpoint URL carries for a Functions host).
   */
  key?: string;
  /** Sent as `aeg-subscription-name` (default LAKEWATT-LOCAL). */
  subscriptionName?: string;
  /** Abandons the delivery (the promise rejects with the abort reason). */
  signal?: AbortSignal;
  /** Called before each retry, for logs. */
  onRetry?: (info: { attempt: number; status: number | undefined; error: string | undefined }) => void;
}

export interface DeliveryResult {
  /** True on a 2xx answer. */
  ok: boolean;
  /** The last HTTP status, or undefined when the last attempt got no answer (connection error, timeout). */
  status: number | undefined;
  attempts: number;
  /** The last answer's body (for error messages), or the connection error. */
  body: string;
  error: string | undefined;
}

const RETRIED_STATUSES = new Set([408, 429]);

/** Whether Event Grid would try again after this answer (undefined: no answer at all). */
export function isRetriedStatus(status: number | undefined): boolean {
  return status === undefined || RETRIED_STATUSES.has(status) || status >= 500;
}

/**
 * POSTs `events` to the host at `baseUrl` for the Event Grid function `functionName`. Event Grid schema
 * events go as a JSON array (`application/json`); CloudEvents go one per request as a single object
 * (`application/cloudevents+json`), or as an array (`application/cloudevents-batch+json`) when there are
 * several. Resolves with the outcome of the last attempt; rejects only when `signal` aborts. No events: no
 * request, `ok` with 0 attempts.
 */
export async function deliverEventGridEvents(
  baseUrl: string,
  functionName: string,
  events: readonly EventGridEvent<unknown>[] | readonly CloudEvent<unknown>[],
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be a positive integer, got ${maxAttempts}`);
  }
  const backoffMs = options.backoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 5000;
  const url = new URL('/runtime/webhooks/eventgrid', baseUrl);
  url.searchParams.set('functionName', functionName);
  if (options.key !== undefined) url.searchParams.set('code', options.key);
  if (events.length === 0) return { ok: true, status: undefined, attempts: 0, body: '', error: undefined };
  const { body, contentType } = encode(events);
  let result: DeliveryResult = { ok: false, status: undefined, attempts: 0, body: '', error: undefined };
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    options.signal?.throwIfAborted();
    result = await attemptOnce(
      url,
      body,
      {
        'content-type': contentType,
        'aeg-event-type': 'Notification',
        'aeg-subscription-name': options.subscriptionName ?? 'LAKEWATT-LOCAL',
        'aeg-delivery-count': String(attempt - 1),
      },
      options.timeoutMs ?? 30_000,
      options.signal,
    );
    result.attempts = attempt;
    if (result.ok || !isRetriedStatus(result.status) || attempt === maxAttempts) return result;
    options.onRetry?.({ attempt, status: result.status, error: result.error });
    const wait = Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1));
    // Event Grid randomises its schedule; so does this, by up to a fifth either way.
    await sleep(Math.round(wait * (0.8 + Math.random() * 0.4)), undefined, { signal: options.signal });
  }
  return result;
}

function encode(events: readonly EventGridEvent<unknown>[] | readonly CloudEvent<unknown>[]): {
  body: string;
  contentType: string;
} {
  const cloud = events.length > 0 && events.every((e) => 'specversion' in e);
  if (!cloud) return { body: JSON.stringify(events), contentType: 'application/json; charset=utf-8' };
  if (events.length === 1) {
    return { body: JSON.stringify(events[0]), contentType: 'application/cloudevents+json; charset=utf-8' };
  }
  return { body: JSON.stringify(events), contentType: 'application/cloudevents-batch+json; charset=utf-8' };
}

async function attemptOnce(
  url: URL,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<DeliveryResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const text = await response.text();
    return {
      ok: response.status >= 200 && response.status < 300,
      status: response.status,
      attempts: 0,
      body: text,
      error: undefined,
    };
  } catch (thrown) {
    if (signal?.aborted) throw signal.reason;
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    const message = timeout.aborted ? `no answer within ${timeoutMs} ms` : `${error.message}${cause}`;
    return { ok: false, status: undefined, attempts: 0, body: '', error: message };
  }
}
