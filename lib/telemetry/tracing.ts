import {
  type Context,
  type Link,
  type Span,
  SpanKind,
  type SpanOptions,
  SpanStatusCode,
} from '@opentelemetry/api';

import type { SpanAttributesOf } from './names';
import { telemetry } from './runtime';
import { formatTraceparent, newSpanContext, parseTraceparent } from './traceContext';

/**
 * Span helpers for activities and clients (never orchestrators: they replay). A span's parent is named by a
 * traceparent carried in the input, since an activity runs in another invocation, maybe on another instance,
 * than the code that scheduled it. Telemetry never fails the work: every helper works when it is off.
 */

export { SpanKind };

export interface SpanRequest {
  /** The parent's traceparent (the file's trace); absent or malformed: the active context's span, if any. */
  parent?: string | undefined;
  kind?: SpanKind;
  attributes?: SpanAttributesOf;
  /** Traceparents of other traces this span also belongs to (span links), e.g. a batch's other files. */
  links?: readonly string[];
}

/** What the work inside a span may do with it. */
export interface ActiveSpan {
  /** This span as a traceparent, for whatever the work hands on (a job parameter, an orchestration input). */
  readonly traceparent: string;
  set(attributes: SpanAttributesOf): void;
}

function linksOf(traceparents: readonly string[] | undefined, extra: Link[]): Link[] {
  const links = [...extra];
  for (const value of traceparents ?? []) {
    const context = parseTraceparent(value);
    if (context) links.push({ context });
  }
  return links;
}

/** The parent context and the links a span starts with. */
function startContext(request: SpanRequest): { parent: Context; links: Link[] } {
  const { api } = telemetry();
  const active = api.context.active();
  const named = request.parent === undefined ? undefined : parseTraceparent(request.parent);
  if (!named) return { parent: active, links: linksOf(request.links, []) };
  // The host's own invocation span (Azure Functions with OpenTelemetry) is linked, not the parent: the file's
  // trace is the parent, and the link leads from our span to the host's request telemetry.
  const invocation = api.trace.getSpanContext(active);
  const invocationLink: Link[] =
    invocation && api.trace.isSpanContextValid(invocation) && invocation.traceId !== named.traceId
      ? [{ context: invocation }]
      : [];
  return {
    parent: api.trace.setSpanContext(api.context.active(), named),
    links: linksOf(request.links, invocationLink),
  };
}

function activeSpan(span: Span): ActiveSpan {
  const context = span.spanContext();
  // Telemetry off and no parent: the span has no context; the work still gets one to hand on.
  const traceparent = formatTraceparent(
    telemetry().api.trace.isSpanContextValid(context) ? context : newSpanContext(),
  );
  return {
    traceparent,
    set: (attributes) => {
      span.setAttributes(attributes);
    },
  };
}

/**
 * Runs `work` inside a span named `name`: a child of `request.parent` (or of the active span), active while
 * the work runs (so instrumented clients, e.g. the Azure SDK, nest under it), ended when it settles; a thrown
 * error marks the span failed and is rethrown unchanged.
 */
export async function inSpan<T>(
  name: string,
  request: SpanRequest,
  work: (span: ActiveSpan) => Promise<T>,
): Promise<T> {
  const { api, tracer } = telemetry();
  const { parent, links } = startContext(request);
  const options: SpanOptions = { kind: request.kind ?? SpanKind.INTERNAL, links };
  if (request.attributes) options.attributes = request.attributes;
  const span = tracer.startSpan(name, options, parent);
  try {
    const result = await api.context.with(api.trace.setSpan(parent, span), () => work(activeSpan(span)));
    span.setStatus({ code: SpanStatusCode.OK });
    return result;
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    span.recordException(failure);
    span.setStatus({ code: SpanStatusCode.ERROR, message: failure.message.split('\n')[0] ?? '' });
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Records a span that already happened (a Databricks run, timed by the run's own clock) as a child of
 * `parent`. Without a valid parent nothing is recorded: such a span would be a trace of its own.
 */
export function recordSpan(
  name: string,
  request: SpanRequest & { parent: string | undefined; start: Date; end: Date; ok: boolean },
): void {
  const named = request.parent === undefined ? undefined : parseTraceparent(request.parent);
  if (!named) return;
  const { api, tracer } = telemetry();
  const options: SpanOptions = {
    kind: request.kind ?? SpanKind.INTERNAL,
    startTime: request.start,
    links: linksOf(request.links, []),
  };
  if (request.attributes) options.attributes = request.attributes;
  const span = tracer.startSpan(name, options, api.trace.setSpanContext(api.ROOT_CONTEXT, named));
  span.setStatus({ code: request.ok ? SpanStatusCode.OK : SpanStatusCode.ERROR });
  span.end(request.end.getTime() < request.start.getTime() ? request.start : request.end);
}
