import { type ScimError, ScimRateLimitedError, ScimUnavailableError } from './errors.ts';

// The retry policy for SCIM calls, as pure functions (stripe-node `_shouldRetry` /
// `_getSleepTimeInMS`, octokit plugin-retry's error-request.ts) plus the small loop in transport.ts.
//
// Why not undici's retry interceptor / RetryHandler (lib/handler/retry-handler.js, 7.x)? Its
// defaults are close to ours (same methods, same statuses, Retry-After), but it is wrong for us in
// three ways:
// 1. Attempts are invisible: it re-dispatches inside the handler, so the client cannot report
//    each attempt (status, duration, attempt number) to `onCall`, which the facade's upstream
//    statistics and the emulator-log tests depend on.
// 2. When retries run out it rejects with its own `RequestRetryError` and drops the body, so the
//    SCIM `scimType`/`detail` of the last answer is lost and errors would no longer be built only
//    by `errorFromResponse` (or, with `throwOnError: false`, the final 5xx leaks through as a
//    plain response and every status has to be mapped twice).
// 3. A `Retry-After` longer than `maxTimeout` is clamped to `maxTimeout` and retried anyway; we
//    must give up instead and surface RATE_LIMITED with `retryAfterSeconds`, so the caller (or its
//    own caller) decides whether to wait that long.
// It also carries range-resume logic (206, ETag checks) that a JSON API never needs. The loop in
// transport.ts is ~30 lines and is driven entirely by the two functions below.

/** Options of the retry policy. Every field is optional on the client; see `resolveRetry`. */
export type RetryOptions = {
  /**
   * Retries after the first attempt (so at most `maxRetries + 1` attempts).
   * @default 2
   */
  maxRetries?: number;
  /**
   * Base of the exponential backoff: the first retry waits about this long.
   * @default 200
   */
  minDelayMs?: number;
  /**
   * Cap of any single wait. A `Retry-After` longer than this is not waited for: the call fails
   * with `ScimRateLimitedError` and its `retryAfterSeconds`.
   * @default 5000
   */
  maxDelayMs?: number;
  /**
   * How to wait; tests inject a recorder that resolves at once. Must reject when `signal` aborts.
   * @default a timer that `signal` cancels
   */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /**
   * Source of jitter in [0, 1).
   * @default Math.random
   */
  random?: () => number;
};

export type ResolvedRetryOptions = Required<RetryOptions>;

const RETRY_DEFAULTS = {
  maxRetries: 2,
  minDelayMs: 200,
  maxDelayMs: 5000,
} as const;

export function resolveRetry(options: RetryOptions | false | undefined): ResolvedRetryOptions {
  const given = options === false ? { maxRetries: 0 } : (options ?? {});
  return {
    maxRetries: given.maxRetries ?? RETRY_DEFAULTS.maxRetries,
    minDelayMs: given.minDelayMs ?? RETRY_DEFAULTS.minDelayMs,
    maxDelayMs: given.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
    sleep: given.sleep ?? sleep,
    random: given.random ?? Math.random,
  };
}

/**
 * Methods that may be repeated without changing the outcome (RFC 9110 §9.2.2). POST is never
 * retried: a `POST /Users` whose answer was lost may have invited the user and taken a seat
 * (docs/keeper-scim.md §1), and a retry would then answer 409 or 428 for our own first attempt. PATCH
 * is retried only when the caller says its operations are idempotent (e.g. `replace` of scalar
 * attributes), because `add` to a multi-valued attribute is not, in general (RFC 7644 §3.5.2.1).
 */
export function isIdempotent(method: string, patchIsIdempotent = false): boolean {
  switch (method.toUpperCase()) {
    case 'GET':
    case 'HEAD':
    case 'PUT':
    case 'DELETE':
      return true;
    case 'PATCH':
      return patchIsIdempotent;
    default:
      return false;
  }
}

/** 5xx answers worth repeating; 501 (a method the server lacks) and 505 will not change on a retry. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

/**
 * Transport failures worth repeating: the connection broke, was refused, or stalled. undici's
 * RetryHandler default list, plus its own socket/timeout codes. The client's per-call deadline
 * (`TIMEOUT`) is deliberately absent: once the deadline has passed there is no time left to retry.
 */
const RETRYABLE_TRANSPORT_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

export type ShouldRetryOptions = Pick<ResolvedRetryOptions, 'maxRetries' | 'maxDelayMs'> & {
  /** The caller marked this PATCH as idempotent. */
  idempotent?: boolean;
};

/**
 * Whether to repeat a request that failed with `error` on attempt number `attempt` (1-based).
 * A decision list, first matching row wins.
 */
export function shouldRetry(
  error: ScimError,
  attempt: number,
  method: string,
  opts: ShouldRetryOptions,
): boolean {
  // Out of retries.
  if (attempt > opts.maxRetries) return false;
  // Not safe to repeat (see isIdempotent).
  if (!isIdempotent(method, opts.idempotent)) return false;
  // 429: retry only if the upstream's Retry-After fits in our cap; otherwise surface it.
  if (error instanceof ScimRateLimitedError) {
    const after = error.retryAfterSeconds;
    return after === undefined || after * 1000 <= opts.maxDelayMs;
  }
  if (error instanceof ScimUnavailableError) {
    // An HTTP answer: only the listed 5xx.
    if (error.status !== 0) return RETRYABLE_STATUSES.has(error.status);
    // No answer: only the listed transport failures.
    return error.transportCode !== undefined && RETRYABLE_TRANSPORT_CODES.has(error.transportCode);
  }
  // 4xx, protocol errors, anything else: repeating cannot help.
  return false;
}

/**
 * How long to wait before attempt `attempt + 1`. A positive `Retry-After` (RFC 9110 §10.2.3) is
 * honoured as sent (shouldRetry has already refused one above the cap); otherwise exponential
 * backoff `minDelayMs * 2^(attempt-1)`, capped at `maxDelayMs`, with "equal jitter" (half fixed,
 * half random, as stripe-node does) so that concurrent callers do not retry in lockstep.
 */
export function backoffMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  opts: Pick<ResolvedRetryOptions, 'minDelayMs' | 'maxDelayMs' | 'random'>,
): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > 0) {
    return Math.min(retryAfterSeconds * 1000, opts.maxDelayMs);
  }
  const exp = Math.min(opts.maxDelayMs, opts.minDelayMs * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (exp / 2) * opts.random();
  return Math.min(opts.maxDelayMs, Math.max(0, Math.round(jittered)));
}

/** A timer that rejects with the signal's reason when `signal` aborts first. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
