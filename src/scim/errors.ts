import { ScimErrorBody } from './schemas.ts';

// One taxonomy for everything that can go wrong between the facade and a SCIM upstream, built
// only by `errorFromResponse` and `errorFromTransport` below (stripe-node's generateV1Error shape).
// Every error carries the method and the path WITHOUT its query string: filters hold e-mail
// addresses. None of them ever holds the bearer token: the request headers are not kept at all.

export type ScimErrorCode =
  | 'UPSTREAM_UNAUTHORIZED'
  | 'SCIM_NOT_FOUND'
  | 'SCIM_CONFLICT'
  | 'SCIM_SEAT_LIMIT'
  | 'RATE_LIMITED'
  | 'SCIM_INVALID_REQUEST'
  | 'SCIM_REQUEST_FAILED'
  | 'UPSTREAM_UNAVAILABLE'
  | 'UPSTREAM_PROTOCOL_ERROR';

export type ScimRequestInfo = {
  method: string;
  /** Path relative to the SCIM base, query string removed. */
  path: string;
};

export type ScimErrorInit = ScimRequestInfo & {
  /** HTTP status; 0 when no response arrived. */
  status: number;
  scimType?: string | undefined;
  detail?: string | undefined;
  cause?: unknown;
};

export class ScimError extends Error {
  readonly code: ScimErrorCode = 'SCIM_REQUEST_FAILED';
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly scimType: string | undefined;
  readonly detail: string | undefined;

  constructor(message: string, init: ScimErrorInit) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.method = init.method;
    this.path = stripQuery(init.path);
    this.status = init.status;
    this.scimType = init.scimType;
    this.detail = init.detail;
  }
}

/** 401 or 403: the token is wrong, unsaved, rotated, or not for this node. */
export class ScimUnauthorizedError extends ScimError {
  override readonly code = 'UPSTREAM_UNAUTHORIZED';
}

/** 404: no such user or team in this node (Keeper also answers 404 for a stale id). */
export class ScimNotFoundError extends ScimError {
  override readonly code = 'SCIM_NOT_FOUND';
}

/** 409: on /Users, Keeper's "Email already taken"; otherwise an RFC 7644 uniqueness conflict. */
export class ScimConflictError extends ScimError {
  override readonly code = 'SCIM_CONFLICT';
}

/** 428: Keeper's "Number of licensed seats was exceeded" (non-standard for SCIM). */
export class ScimSeatLimitError extends ScimError {
  override readonly code = 'SCIM_SEAT_LIMIT';
}

/** 400: the upstream rejected the request; `scimType` says why (invalidFilter, invalidValue, …). */
export class ScimInvalidRequestError extends ScimError {
  override readonly code = 'SCIM_INVALID_REQUEST';
}

/** 429, with the upstream's Retry-After in seconds when it sent one. */
export class ScimRateLimitedError extends ScimError {
  override readonly code = 'RATE_LIMITED';
  readonly retryAfterSeconds: number | undefined;

  constructor(message: string, init: ScimErrorInit & { retryAfterSeconds?: number | undefined }) {
    super(message, init);
    this.retryAfterSeconds = init.retryAfterSeconds;
  }
}

/**
 * 5xx, a network failure or a timeout. `requestSent` is false only when the request certainly
 * never reached the upstream (connection refused, connect timeout); otherwise a write may or may
 * not have been applied, and callers must not assume either.
 */
export class ScimUnavailableError extends ScimError {
  override readonly code = 'UPSTREAM_UNAVAILABLE';
  readonly requestSent: boolean;
  /**
   * For failures without an HTTP answer: the transport's error code (`ECONNRESET`,
   * `UND_ERR_SOCKET`, `UND_ERR_HEADERS_TIMEOUT`, …), or `TIMEOUT` when the client's own per-call
   * deadline fired. `undefined` for 5xx answers. The retry policy reads it.
   */
  readonly transportCode: string | undefined;

  constructor(
    message: string,
    init: ScimErrorInit & { requestSent: boolean; transportCode?: string | undefined },
  ) {
    super(message, init);
    this.requestSent = init.requestSent;
    this.transportCode = init.transportCode;
  }
}

/** The upstream answered, but not with what SCIM promises (not JSON, wrong shape). */
export class ScimProtocolError extends ScimError {
  override readonly code = 'UPSTREAM_PROTOCOL_ERROR';
}

export const isScimError = (value: unknown): value is ScimError => value instanceof ScimError;

function stripQuery(path: string): string {
  const q = path.indexOf('?');
  return q === -1 ? path : path.slice(0, q);
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(
  header: string | string[] | undefined,
  now = Date.now(),
): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

/**
 * The only place an error is built from an HTTP answer. `body` is the parsed JSON body when there
 * was one (anything else is ignored: raw upstream bodies never travel further).
 *
 * A status below 400 reaches this function only when the answer was unusable (not JSON, or not
 * the shape SCIM promises): that is a `ScimProtocolError`, and `problem` says what was wrong
 * (it never quotes the body). `cause` is kept for diagnostics (e.g. the zod error).
 */
export function errorFromResponse(
  request: ScimRequestInfo,
  status: number,
  body: unknown,
  headers: Record<string, string | string[] | undefined> = {},
  problem?: { reason: string; cause?: unknown },
): ScimError {
  const parsed = ScimErrorBody.safeParse(body);
  const scimType = parsed.success ? parsed.data.scimType : undefined;
  const detail = parsed.success ? parsed.data.detail : undefined;
  const init: ScimErrorInit = { ...request, status, scimType, detail };
  // `detail` is the upstream's own text: kept as data on the error (the operator's log shows it,
  // redacted), never put into a message, which may reach a caller or an unredacted log.
  const where = `${request.method} ${stripQuery(request.path)}`;

  if (status < 400) {
    return new ScimProtocolError(
      `Unusable answer (${status}) from SCIM upstream on ${where}: ${problem?.reason ?? 'unexpected status'}`,
      { ...request, status, cause: problem?.cause },
    );
  }
  if (status === 401 || status === 403) {
    return new ScimUnauthorizedError(
      `SCIM upstream refused the token (${status}) on ${where}`,
      init,
    );
  }
  if (status === 404) return new ScimNotFoundError(`Not found in this node: ${where}`, init);
  if (status === 409) return new ScimConflictError(`Conflict on ${where}`, init);
  if (status === 428) return new ScimSeatLimitError(`Licensed seats exceeded on ${where}`, init);
  if (status === 429) {
    return new ScimRateLimitedError(`Rate limited on ${where}`, {
      ...init,
      retryAfterSeconds: parseRetryAfter(headers['retry-after']),
    });
  }
  if (status === 400) {
    return new ScimInvalidRequestError(
      `Invalid request ${where}${scimType ? ` (${scimType})` : ''}`,
      init,
    );
  }
  if (status >= 500) {
    return new ScimUnavailableError(`SCIM upstream failed (${status}) on ${where}`, {
      ...init,
      requestSent: true,
    });
  }
  return new ScimError(`SCIM request ${where} failed with status ${status}`, init);
}

// undici error codes that prove the request never left this process.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_INVALID_ARG',
]);

/**
 * The only place an error is built from a transport failure (no HTTP answer). `deadline`: the
 * call's deadline passed before this attempt was sent, so nothing reached the upstream.
 */
export function errorFromTransport(
  request: ScimRequestInfo,
  cause: unknown,
  reason: 'network' | 'timeout' | 'deadline' = 'network',
): ScimUnavailableError {
  const code = (cause as { code?: unknown } | null)?.code;
  const requestSent =
    reason !== 'deadline' && !(typeof code === 'string' && NOT_SENT_CODES.has(code));
  const what =
    reason === 'deadline'
      ? 'was not sent: its deadline had passed'
      : reason === 'timeout'
        ? 'timed out'
        : `failed (${typeof code === 'string' ? code : 'network error'})`;
  const transportCode =
    typeof code === 'string' ? code : reason === 'network' ? undefined : 'TIMEOUT';
  return new ScimUnavailableError(
    `SCIM request ${request.method} ${stripQuery(request.path)} ${what}`,
    { ...request, status: 0, cause, requestSent, transportCode },
  );
}
