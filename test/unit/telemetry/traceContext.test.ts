import { TraceFlags } from '@opentelemetry/api';

import {
  formatTraceparent,
  newSpanContext,
  parseTraceparent,
  traceIdOf,
  traceparentIn,
  traceparentSchema,
} from '../../../lib/telemetry/traceContext';

// The example of the W3C Trace Context recommendation, section 3.2.
const W3C_EXAMPLE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('traceparent', () => {
  test('when a valid traceparent is parsed, then its trace id, parent id and sampled flag come out as a remote context', () => {
    expect(parseTraceparent(W3C_EXAMPLE)).toEqual({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  });

  test('when a parsed traceparent is formatted, then the same string comes back', () => {
    expect(formatTraceparent(parseTraceparent(W3C_EXAMPLE)!)).toBe(W3C_EXAMPLE);
  });

  test.each([
    ['an unknown version', 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['upper-case hex', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01'],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`],
    ['an all-zero parent id', `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`],
    ['a short trace id', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01'],
    ['trailing text', `${W3C_EXAMPLE}-x`],
  ])('when a traceparent has %s, then it is refused', (_why, value) => {
    expect(parseTraceparent(value)).toBeUndefined();
    expect(traceparentSchema.safeParse(value).success).toBe(false);
  });

  test('when a context is created, then it has fresh non-zero ids and is not marked sampled', () => {
    const bytes = [Buffer.alloc(16), Buffer.alloc(16, 0xab), Buffer.alloc(8, 0x01)];
    const context = newSpanContext(() => bytes.shift()!);

    // The all-zero draw is invalid in W3C and is drawn again.
    expect(context).toEqual({
      traceId: 'ab'.repeat(16),
      spanId: '01'.repeat(8),
      traceFlags: TraceFlags.NONE,
    });
    expect(traceparentSchema.safeParse(formatTraceparent(context)).success).toBe(true);
  });

  test('when an input carries a traceparent, then it is read; a malformed or missing one reads as none', () => {
    expect(traceparentIn({ traceparent: W3C_EXAMPLE, other: 1 })).toBe(W3C_EXAMPLE);
    expect(traceparentIn({ traceparent: 'nope' })).toBeUndefined();
    expect(traceparentIn({})).toBeUndefined();
    expect(traceparentIn(null)).toBeUndefined();
    expect(traceIdOf(W3C_EXAMPLE)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });
});
