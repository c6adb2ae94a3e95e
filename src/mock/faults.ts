/**
 * Fault selection and the texts faults send. Which fault hits a request is decided once, at admission, from
 * the seeded random source; the first configured fault that matches and fires wins.
 */
import type { FaultConfig } from './config.js';
import type { Random } from '../time/random.js';

/** The first fault that matches the request and fires (rate 1 fires without drawing a number). */
export function pickFault(
  faults: readonly FaultConfig[],
  rng: Random,
  model: string,
  account: string,
  stream: boolean,
): FaultConfig | undefined {
  for (const f of faults) {
    const m = f.match;
    if (m.model !== undefined && m.model !== model) continue;
    if (m.account !== undefined && m.account !== account) continue;
    if (m.stream !== undefined && m.stream !== stream) continue;
    if (f.rate >= 1 || (f.rate > 0 && rng.next() < f.rate)) return f;
  }
  return undefined;
}

/** DeepSeek's message for an HTTP error status (DEEPSEEK-API.md "Errors"). */
export function defaultErrorMessage(status: number): string {
  switch (status) {
    case 400:
      return 'Invalid request';
    case 401:
      return 'Authentication Fails, Your api key: ****mock is invalid';
    case 402:
      return 'Insufficient Balance';
    case 422:
      return 'Invalid parameters';
    case 429:
      return 'Too many requests. Please pace your requests reasonably.';
    case 500:
      return 'Internal Server Error';
    case 503:
      return 'Server overloaded, please try again later.';
  }
  return `HTTP error ${status}`;
}

/** The text of an error sent after status 200 (error_after_headers, mid_stream_error). */
export const SERVER_ERROR_MESSAGE = 'The server had an error while processing your request. Please try again later.';

/** An nginx-style gateway error page; `message` (if any) replaces the heading, unescaped on purpose. */
export function gatewayPage(status: number, message?: string): string {
  const title = `${status} ${status === 504 ? 'Gateway Time-out' : status === 503 ? 'Service Temporarily Unavailable' : 'Bad Gateway'}`;
  return (
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n` +
    `<center><h1>${message ?? title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`
  );
}
