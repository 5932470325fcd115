import { describe, expect, it } from 'vitest';
import {
  errorFromResponse,
  errorFromTransport,
  parseRetryAfter,
  ScimConflictError,
  ScimError,
  ScimInvalidRequestError,
  ScimNotFoundError,
  ScimProtocolError,
  ScimRateLimitedError,
  ScimSeatLimitError,
  ScimUnauthorizedError,
  ScimUnavailableError,
} from '../../src/scim/errors.ts';

const request = { method: 'POST', path: '/Users?filter=userName%20eq%20%22a%40b%22' };
const scimError = (status: number, scimType?: string, detail?: string) => ({
  schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
  status: String(status),
  ...(scimType ? { scimType } : {}),
  ...(detail ? { detail } : {}),
});

describe('errorFromResponse', () => {
  it.each([
    [401, ScimUnauthorizedError, 'UPSTREAM_UNAUTHORIZED'],
    [403, ScimUnauthorizedError, 'UPSTREAM_UNAUTHORIZED'],
    [404, ScimNotFoundError, 'SCIM_NOT_FOUND'],
    [409, ScimConflictError, 'SCIM_CONFLICT'],
    [428, ScimSeatLimitError, 'SCIM_SEAT_LIMIT'],
    [429, ScimRateLimitedError, 'RATE_LIMITED'],
    [400, ScimInvalidRequestError, 'SCIM_INVALID_REQUEST'],
    [500, ScimUnavailableError, 'UPSTREAM_UNAVAILABLE'],
    [502, ScimUnavailableError, 'UPSTREAM_UNAVAILABLE'],
    [503, ScimUnavailableError, 'UPSTREAM_UNAVAILABLE'],
    [504, ScimUnavailableError, 'UPSTREAM_UNAVAILABLE'],
    [501, ScimUnavailableError, 'UPSTREAM_UNAVAILABLE'],
    [412, ScimError, 'SCIM_REQUEST_FAILED'],
    [200, ScimProtocolError, 'UPSTREAM_PROTOCOL_ERROR'],
    [307, ScimProtocolError, 'UPSTREAM_PROTOCOL_ERROR'],
  ] as const)('maps %i to %o', (status, Class, code) => {
    const error = errorFromResponse(request, status, scimError(status));
    expect(error).toBeInstanceOf(Class);
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
    expect(error.method).toBe('POST');
    // Filters hold e-mail addresses: the query string never survives.
    expect(error.path).toBe('/Users');
    expect(error.message).not.toContain('filter');
  });

  it('keeps scimType and detail of a SCIM error body', () => {
    const error = errorFromResponse(request, 400, scimError(400, 'invalidFilter', 'bad filter'));
    expect(error).toMatchObject({ scimType: 'invalidFilter', detail: 'bad filter' });
    expect(error.message).toContain('invalidFilter');
    const conflict = errorFromResponse(
      request,
      409,
      scimError(409, 'uniqueness', 'Email already taken'),
    );
    expect(conflict).toMatchObject({ scimType: 'uniqueness', detail: 'Email already taken' });
  });

  it('tolerates a missing or non-SCIM error body', () => {
    expect(errorFromResponse(request, 404, undefined)).toBeInstanceOf(ScimNotFoundError);
    expect(errorFromResponse(request, 404, 'oops').detail).toBeUndefined();
  });

  it('reads Retry-After as seconds or as an HTTP-date', () => {
    const seconds = errorFromResponse(request, 429, undefined, { 'retry-after': '7' });
    expect(seconds).toBeInstanceOf(ScimRateLimitedError);
    expect((seconds as ScimRateLimitedError).retryAfterSeconds).toBe(7);
    const none = errorFromResponse(request, 429, undefined, {});
    expect((none as ScimRateLimitedError).retryAfterSeconds).toBeUndefined();
  });

  // Whether a failure is retried is the retry policy's decision (retry.ts, retry.test.ts), which
  // also weighs the method and whether the request was sent: errors only say what happened.
  it('tells 429 and 5xx from a 4xx by class', () => {
    expect(errorFromResponse(request, 429, undefined)).toBeInstanceOf(ScimRateLimitedError);
    expect(errorFromResponse(request, 503, undefined)).toBeInstanceOf(ScimUnavailableError);
    expect(errorFromResponse(request, 409, undefined)).toBeInstanceOf(ScimConflictError);
  });

  it('says what was wrong with an unusable 2xx answer', () => {
    const error = errorFromResponse(
      request,
      200,
      undefined,
      {},
      { reason: 'body is not valid JSON' },
    );
    expect(error).toBeInstanceOf(ScimProtocolError);
    expect(error.message).toContain('body is not valid JSON');
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 120 ', now)).toBe(120);
    expect(parseRetryAfter(['3', '9'], now)).toBe(3);
  });
  it('reads an HTTP-date, never negative', () => {
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now)).toBe(0);
  });
  it('ignores garbage', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('errorFromTransport', () => {
  it('marks connection failures as not sent and keeps the transport code', () => {
    const refused = errorFromTransport(
      request,
      Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    );
    expect(refused).toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      status: 0,
      requestSent: false,
      transportCode: 'ECONNREFUSED',
    });
  });

  it('treats a reset as possibly applied', () => {
    const reset = errorFromTransport(
      request,
      Object.assign(new Error('x'), { code: 'ECONNRESET' }),
    );
    expect(reset).toMatchObject({ requestSent: true, transportCode: 'ECONNRESET' });
    expect(reset.message).toContain('ECONNRESET');
  });

  it('reports the client deadline as TIMEOUT', () => {
    const cause = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const error = errorFromTransport(request, cause, 'timeout');
    expect(error).toMatchObject({ requestSent: true, transportCode: 'TIMEOUT', status: 0 });
    expect(error.message).toContain('timed out');
    expect(error.cause).toBe(cause);
  });
});
