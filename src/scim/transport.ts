import { performance } from 'node:perf_hooks';
import { type Dispatcher, Pool } from 'undici';
import type { z } from 'zod';
import type { UpstreamBudget } from './budget.ts';
import {
  errorFromResponse,
  errorFromTransport,
  isScimError,
  type ScimError,
  ScimRateLimitedError,
  type ScimRequestInfo,
} from './errors.ts';
import { backoffMs, type RetryOptions, resolveRetry, shouldRetry } from './retry.ts';

// The HTTP half of the SCIM client (client.ts holds the resources): one undici Pool for the
// origin, the attempt, the retry loop around it with its deadline and the upstream budget, and
// the parsing of answers. Invariants:
// - every failure is a ScimError built by errorFromResponse / errorFromTransport, except a
//   cancellation by the caller's own signal, which rejects with that signal's reason (as fetch
//   does) so that it is never mistaken for an upstream failure;
// - the bearer token lives only in the request headers; errors keep neither the headers nor the
//   query string (filters hold e-mail addresses);
// - every response body is consumed (undici README "Garbage Collection"), error bodies included;
// - every HTTP attempt is reported to `onCall`, retries included.

/** One HTTP attempt, for statistics and logs. Never holds headers, query strings or bodies. */
export type UpstreamCall = {
  method: string;
  /** Route template: '/Users', '/Users/{id}', '/Groups/{id}', '/ServiceProviderConfig', … */
  route: string;
  /** HTTP status; 0 when no response arrived. */
  status: number;
  durationMs: number;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  /** The ScimError code of a failed attempt, or 'ABORTED' when the caller cancelled. */
  errorCode?: string;
};

/**
 * Watches HTTP attempts (logs, metrics, traces): called as an attempt starts; the headers it
 * returns are sent with that attempt (a request id, a trace context), and `end` is called once
 * with the attempt's outcome. Exceptions it throws are ignored.
 */
export type AttemptObserver = (start: {
  method: string;
  route: string;
  attempt: number;
}) => { headers?: Record<string, string>; end?: (call: UpstreamCall) => void } | undefined;

export type CallOptions = {
  /** Cancels the call (all attempts and the waits between them). */
  signal?: AbortSignal;
  /**
   * A deadline beyond the call's own (`requestTimeoutMs`), on the `performance.now()` clock: the
   * earlier of the two cuts the call off, and no attempt or retry starts after it. The facade
   * passes its GraphQL request's deadline here, so that pages and retries cannot outlive it.
   */
  deadline?: number;
  /** Per-GraphQL-request stats collector, called in addition to the client-wide `onCall`. */
  onCall?: (call: UpstreamCall) => void;
  /** Per-request attempt observer, in addition to the client-wide `observe`. */
  observe?: AttemptObserver;
};

export type TransportOptions = {
  /** Full SCIM base including the node id, e.g. `https://keepersecurity.eu/api/rest/scim/v2/123`. */
  baseUrl: string;
  /** The node's bearer token. Never logged, never put into an error. */
  token: string;
  /**
   * Dispatcher to send requests through (tests pass a MockAgent). The client does not close a
   * dispatcher it was given.
   * @default one undici Pool for the origin of `baseUrl`, closed by `close()`
   */
  dispatcher?: Dispatcher;
  /** TCP/TLS connect timeout of the Pool (UPSTREAM_CONNECT_TIMEOUT_MS; ignored with an injected dispatcher). */
  connectTimeoutMs: number;
  /**
   * Time to wait for the response headers of one attempt.
   * @default 30000
   */
  headersTimeoutMs?: number;
  /**
   * Longest pause between two chunks of a response body.
   * @default 30000
   */
  bodyTimeoutMs?: number;
  /**
   * Deadline of one call, all attempts and backoff waits included (the earlier of it and
   * `CallOptions.deadline` wins). On expiry the call fails with `ScimUnavailableError`
   * (`transportCode: 'TIMEOUT'`); `headersTimeoutMs` and `bodyTimeoutMs` are shortened to what is
   * left of it. UPSTREAM_TIMEOUT_MS.
   */
  requestTimeoutMs: number;
  /** Most concurrent connections to the upstream (UPSTREAM_MAX_CONNECTIONS; ignored with an injected dispatcher). */
  maxConnections: number;
  /**
   * Idle time after which a kept-alive socket is closed (ignored with an injected dispatcher).
   * @default 4000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Retry policy (retry.ts); `false` disables retries.
   * @default { maxRetries: 2, minDelayMs: 200, maxDelayMs: 5000 }
   */
  retry?: RetryOptions | false;
  /** Called for every HTTP attempt. Exceptions it throws are ignored. */
  onCall?: (call: UpstreamCall) => void;
  /** Client-wide attempt observer (e.g. metrics). */
  observe?: AttemptObserver;
  /**
   * Asked before every HTTP attempt (retries included) and told of every 429 with Retry-After:
   * a rate for the upstream and pauses shared by every caller (budget.ts).
   * @default none: attempts start at once
   */
  budget?: UpstreamBudget;
  /**
   * User-Agent header.
   * @default 'keeper-scim-graphql'
   */
  userAgent?: string;
};

// The options the configuration sets (timeouts of a call and of a connection, the pool's size)
// have no default here: service.ts passes them from `Config`.
const DEFAULTS = {
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 30_000,
  keepAliveTimeoutMs: 4_000,
  userAgent: 'keeper-scim-graphql',
} as const;

const ACCEPT = 'application/scim+json, application/json';
const CONTENT_TYPE = 'application/scim+json';

export type RequestSpec = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  route: string;
  /** Relative to the SCIM base, ids already encoded. */
  path: string;
  query?: string;
  body?: unknown;
  /** PATCH only: the caller says it is safe to repeat. */
  idempotent?: boolean;
};

type Answer = {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
};

/** Sends SCIM requests: `send` returns the answer, `call` also checks its body's shape. */
export type Transport = {
  send(spec: RequestSpec, opts: CallOptions | undefined): Promise<Answer>;
  /**
   * Sends and validates the answer's body against `schema`. `lean` (lean.ts) is a fast check
   * with the same acceptance and output; zod only runs when it refuses, to name the issues.
   */
  call<S extends z.ZodType>(
    spec: RequestSpec,
    schema: S,
    opts: CallOptions | undefined,
    lean?: (body: unknown) => z.output<S> | undefined,
  ): Promise<z.output<S>>;
  /** The body of an answer `send` returned, checked like `call` does. */
  validate<S extends z.ZodType>(
    spec: RequestSpec,
    answer: Answer,
    schema: S,
    lean?: (body: unknown) => z.output<S> | undefined,
  ): z.output<S>;
  /** The Pool's counters, or undefined with an injected dispatcher. */
  poolStats(): { connected: number; free: number; queued: number; running: number } | undefined;
  /** Closes the Pool the transport created (not an injected dispatcher). */
  close(): Promise<void>;
};

export function createTransport(options: TransportOptions): Transport {
  const base = parseBaseUrl(options.baseUrl);
  const token = checkToken(options.token);
  const retry = resolveRetry(options.retry);
  const headersTimeout = options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs;
  const bodyTimeout = options.bodyTimeoutMs ?? DEFAULTS.bodyTimeoutMs;
  const { requestTimeoutMs } = options;
  const budget = options.budget;
  const ownsDispatcher = options.dispatcher === undefined;
  const dispatcher: Dispatcher =
    options.dispatcher ??
    new Pool(base.origin, {
      connections: options.maxConnections,
      connectTimeout: options.connectTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs ?? DEFAULTS.keepAliveTimeoutMs,
      headersTimeout,
      bodyTimeout,
    });
  const baseHeaders = {
    authorization: `Bearer ${token}`,
    accept: ACCEPT,
    'user-agent': options.userAgent ?? DEFAULTS.userAgent,
  };

  function report(opts: CallOptions | undefined, call: UpstreamCall): void {
    for (const hook of [options.onCall, opts?.onCall]) {
      try {
        hook?.(call);
      } catch {
        // A broken stats hook must not fail an upstream call.
      }
    }
  }

  /** Starts the observers of one attempt: the headers they add, and what to call at its end. */
  function observe(opts: CallOptions | undefined, start: Parameters<AttemptObserver>[0]) {
    const headers: Record<string, string> = {};
    const ends: ((call: UpstreamCall) => void)[] = [];
    for (const observer of [options.observe, opts?.observe]) {
      try {
        const watch = observer?.(start);
        Object.assign(headers, watch?.headers);
        if (watch?.end) ends.push(watch.end);
      } catch {
        // A broken observer must not fail an upstream call.
      }
    }
    const end = (call: UpstreamCall) => {
      for (const hook of ends) {
        try {
          hook(call);
        } catch {
          // Same.
        }
      }
    };
    return { headers, end };
  }

  /** One HTTP attempt. Resolves with a usable answer (< 300), rejects with a ScimError. */
  async function attempt(
    spec: RequestSpec,
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined,
    n: number,
    opts: CallOptions | undefined,
    leftMs: number,
  ): Promise<Answer> {
    const info: ScimRequestInfo = { method: spec.method, path: spec.path };
    const started = performance.now();
    const watch = observe(opts, { method: spec.method, route: spec.route, attempt: n });
    const done = (status: number, errorCode?: string) => {
      const call: UpstreamCall = {
        method: spec.method,
        route: spec.route,
        status,
        durationMs: performance.now() - started,
        attempt: n,
        ...(errorCode === undefined ? {} : { errorCode }),
      };
      report(opts, call);
      watch.end(call);
    };
    const failTransport = (cause: unknown, status: number): never => {
      if (callerSignal?.aborted) {
        done(status, 'ABORTED');
        throw callerSignal.reason;
      }
      const error = errorFromTransport(info, cause, signal.aborted ? 'timeout' : 'network');
      done(status, error.code);
      throw error;
    };

    const hasBody = spec.body !== undefined;
    let response: Dispatcher.ResponseData;
    try {
      response = await dispatcher.request({
        origin: base.origin,
        path: `${base.path}${spec.path}${spec.query ? `?${spec.query}` : ''}`,
        method: spec.method,
        headers: {
          ...watch.headers,
          ...baseHeaders,
          ...(hasBody ? { 'content-type': CONTENT_TYPE } : {}),
        },
        body: hasBody ? JSON.stringify(spec.body) : null,
        signal,
        // Never longer than what is left of the deadline.
        headersTimeout: Math.min(headersTimeout, leftMs),
        bodyTimeout: Math.min(bodyTimeout, leftMs),
      });
    } catch (cause) {
      return failTransport(cause, 0);
    }

    const { statusCode: status, headers } = response;
    let text: string;
    try {
      text = await response.body.text();
    } catch (cause) {
      // The body broke off (reset, body timeout, abort): no complete answer.
      return failTransport(cause, status);
    }

    const parsed = parseBody(text, headers['content-type']);
    if (status >= 300 || 'problem' in parsed) {
      const body = 'json' in parsed ? parsed.json : undefined;
      const error = errorFromResponse(
        info,
        status,
        body,
        headers,
        status >= 300
          ? { reason: status < 400 ? 'unexpected redirect' : 'error status' }
          : 'problem' in parsed
            ? parsed.problem
            : undefined,
      );
      done(status, error.code);
      throw error;
    }
    done(status);
    return { status, headers, body: parsed.json };
  }

  /**
   * Waits for the budget's slot before an attempt. A slot beyond the deadline fails the call at
   * once as rate limited (nothing is sent); an abort while waiting ends it like any other wait.
   */
  async function awaitBudget(
    spec: RequestSpec,
    signal: AbortSignal,
    callerSignal: AbortSignal | undefined,
    deadlineAt: number,
  ): Promise<void> {
    if (!budget) return;
    const decision = await budget
      .reserve(Math.max(0, deadlineAt - performance.now()))
      .catch(() => ({ waitMs: 0 }));
    const info = { method: spec.method, path: spec.path };
    if ('refusedForMs' in decision) {
      throw new ScimRateLimitedError(
        `SCIM request ${spec.method} ${spec.route} not sent: the upstream budget has no slot before its deadline`,
        { ...info, status: 0, retryAfterSeconds: Math.ceil(decision.refusedForMs / 1000) },
      );
    }
    if (decision.waitMs <= 0) return;
    try {
      await retry.sleep(decision.waitMs, signal);
    } catch (cause) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      throw errorFromTransport(info, cause, 'timeout');
    }
  }

  /**
   * The retry loop around `attempt`; the decisions are retry.ts's pure functions. The deadline is
   * a timer this call owns and clears when it ends: a signal from `AbortSignal.timeout` combined
   * through `AbortSignal.any` is only weakly held on Node 20 and can be garbage-collected before it
   * fires (nodejs/node#57736), leaving a hung call to undici's much longer timeouts.
   */
  async function send(spec: RequestSpec, opts: CallOptions | undefined): Promise<Answer> {
    const callerSignal = opts?.signal;
    callerSignal?.throwIfAborted();
    const deadline = Math.min(performance.now() + requestTimeoutMs, opts?.deadline ?? Infinity);
    const controller = new AbortController();
    const { signal } = controller;
    const timer = setTimeout(
      () => controller.abort(new DOMException('The SCIM call deadline passed', 'TimeoutError')),
      Math.max(0, deadline - performance.now()),
    );
    const onCallerAbort = () => controller.abort(callerSignal?.reason);
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
    const notSent = () => {
      if (callerSignal?.aborted) throw callerSignal.reason;
      throw errorFromTransport({ method: spec.method, path: spec.path }, undefined, 'deadline');
    };
    try {
      for (let n = 1; ; n++) {
        if (deadline - performance.now() <= 0 || signal.aborted) notSent();
        await awaitBudget(spec, signal, callerSignal, deadline);
        const left = deadline - performance.now();
        if (left <= 0 || signal.aborted) notSent();
        try {
          return await attempt(spec, signal, callerSignal, n, opts, Math.ceil(left));
        } catch (error) {
          if (!isScimError(error)) throw error;
          if (error instanceof ScimRateLimitedError && error.retryAfterSeconds !== undefined) {
            await budget?.onRateLimited(error.retryAfterSeconds * 1000).catch(() => {});
          }
          const retryable = shouldRetry(error, n, spec.method, {
            maxRetries: retry.maxRetries,
            maxDelayMs: retry.maxDelayMs,
            idempotent: spec.idempotent ?? false,
          });
          if (!retryable) throw error;
          const after = error instanceof ScimRateLimitedError ? error.retryAfterSeconds : undefined;
          const wait = backoffMs(n, after, retry);
          // A retry that could only start after the deadline is not started at all.
          if (performance.now() + wait >= deadline) throw error;
          try {
            await retry.sleep(wait, signal);
          } catch {
            // Woken by an abort: the caller's cancellation wins, otherwise the deadline passed
            // while waiting and the last upstream failure is the most useful answer.
            if (callerSignal?.aborted) throw callerSignal.reason;
            throw error;
          }
        }
      }
    } finally {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    }
  }

  /**
   * Sends and validates the answer's body against `schema`. `lean` (lean.ts) is a fast check
   * with the same acceptance and output; zod only runs when it refuses, to name the issues.
   */
  function validate<S extends z.ZodType>(
    spec: RequestSpec,
    answer: Answer,
    schema: S,
    lean?: (body: unknown) => z.output<S> | undefined,
  ): z.output<S> {
    const fast = lean?.(answer.body);
    if (fast !== undefined) return fast;
    const result = schema.safeParse(answer.body);
    if (result.success) return result.data;
    throw protocolError(spec, answer, result.error);
  }

  function protocolError(spec: RequestSpec, answer: Answer, cause: z.ZodError): ScimError {
    // Only paths and messages of the issues, never the received values (they are user data).
    const reason =
      answer.body === undefined
        ? 'empty body'
        : `body does not match the expected shape (${cause.issues
            .slice(0, 3)
            .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
            .join('; ')})`;
    return errorFromResponse(
      { method: spec.method, path: spec.path },
      answer.status,
      answer.body,
      answer.headers,
      { reason, cause },
    );
  }
  return {
    send,
    call: async (spec, schema, opts, lean) => validate(spec, await send(spec, opts), schema, lean),
    validate,
    poolStats: () => (dispatcher instanceof Pool ? dispatcher.stats : undefined),
    close: async () => {
      if (ownsDispatcher) await dispatcher.close();
    },
  };
}

function parseBaseUrl(baseUrl: string): { origin: string; path: string } {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('baseUrl must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new TypeError('baseUrl must be an absolute http(s) URL');
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new TypeError('baseUrl must not carry a query, a fragment or credentials');
  }
  // Keeper's base has no trailing slash (docs/keeper-scim.md §1); routes are appended with their own.
  return { origin: url.origin, path: url.pathname.replace(/\/+$/, '') };
}

function checkToken(token: string): string {
  // The message never quotes the token.
  if (typeof token !== 'string' || token.length === 0) {
    throw new TypeError('token must be a non-empty string');
  }
  if (/[\u0000-\u0020\u007f]/.test(token)) {
    throw new TypeError('token must not contain whitespace or control characters');
  }
  return token;
}

type ParsedBody = { json: unknown } | { problem: { reason: string; cause?: unknown } };

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * JSON for `application/scim+json`, `application/json` (Entra and Keeper's own clients use it,
 * docs/keeper-scim.md §1) and any `+json` type; also for a missing Content-Type, since Keeper's
 * response type is undocumented. An empty body is `undefined` (204, or an empty 200).
 */
function parseBody(text: string, contentType: string | string[] | undefined): ParsedBody {
  if (text.trim() === '') return { json: undefined };
  const type = Array.isArray(contentType) ? contentType[0] : contentType;
  if (type !== undefined && !JSON_TYPE.test(type)) {
    return { problem: { reason: `content-type ${type.split(';')[0]} is not JSON` } };
  }
  try {
    return { json: JSON.parse(text) };
  } catch {
    // The SyntaxError quotes the body, and raw upstream bodies never travel further.
    return { problem: { reason: 'body is not valid JSON' } };
  }
}
