/**
 * Cutting thousands of requests at once (a decided cheap level, a step down) must not cost a stack trace each.
 * An abort builds errors on the way (undici's InformationalError, Node's stream destroy reads its `stack`), and
 * capturing and formatting a stack is most of what a cut costs. These errors are never shown: a cut request's
 * Sample says why it was cut.
 */

/** The abort reason dsprobe gives its own cuts: abort() without a reason builds a DOMException (with a stack). */
export const OWN_CUT = Object.freeze({ name: 'DsprobeCut' });

/** Runs `fn` with stack capture off (Error.stackTraceLimit 0), restoring it after, even if `fn` throws. */
export function withoutStacks<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}
