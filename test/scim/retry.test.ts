import { afterEach, describe, expect, it } from 'vitest';
import {
  errorFromResponse,
  errorFromTransport,
  ScimRateLimitedError,
} from '../../src/scim/errors.ts';
import {
  backoffMs,
  isIdempotent,
  resolveRetry,
  type ShouldRetryOptions,
  shouldRetry,
  sleep,
} from '../../src/scim/retry.ts';
import { BASE_PATH, mockClient, SCIM_JSON, user } from './mock.ts';

const req = { method: 'GET', path: '/Users/1' };
const opts: ShouldRetryOptions = { maxRetries: 2, maxDelayMs: 5000 };
const status = (code: number, headers: Record<string, string> = {}) =>
  errorFromResponse(req, code, undefined, headers);
const transport = (code: string) =>
  errorFromTransport(req, Object.assign(new Error(code), { code }));

describe('shouldRetry', () => {
  it('retries GET, PUT and DELETE on 503', () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      expect(shouldRetry(status(503), 1, method, opts)).toBe(true);
    }
  });

  it('never retries POST, even on 503 or a reset', () => {
    expect(shouldRetry(status(503), 1, 'POST', opts)).toBe(false);
    expect(shouldRetry(transport('ECONNRESET'), 1, 'POST', opts)).toBe(false);
  });

  it('retries PATCH only when marked idempotent', () => {
    expect(shouldRetry(status(503), 1, 'PATCH', opts)).toBe(false);
    expect(shouldRetry(status(503), 1, 'PATCH', { ...opts, idempotent: true })).toBe(true);
  });

  it.each([429, 500, 502, 503, 504])('retries status %i', (code) => {
    expect(shouldRetry(status(code), 1, 'GET', opts)).toBe(true);
  });

  it.each([400, 401, 403, 404, 409, 412, 428, 501, 505])('does not retry status %i', (code) => {
    expect(shouldRetry(status(code), 1, 'GET', opts)).toBe(false);
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'ECONNREFUSED', 'EPIPE', 'UND_ERR_HEADERS_TIMEOUT'])(
    'retries network error %s',
    (code) => {
      expect(shouldRetry(transport(code), 1, 'GET', opts)).toBe(true);
    },
  );

  it('does not retry the client deadline or an unknown transport failure', () => {
    const deadline = errorFromTransport(req, new DOMException('t', 'TimeoutError'), 'timeout');
    expect(shouldRetry(deadline, 1, 'GET', opts)).toBe(false);
    expect(shouldRetry(errorFromTransport(req, new Error('?')), 1, 'GET', opts)).toBe(false);
  });

  it('does not retry protocol errors', () => {
    const protocol = errorFromResponse(req, 200, undefined, {}, { reason: 'x' });
    expect(shouldRetry(protocol, 1, 'GET', opts)).toBe(false);
  });

  it('stops after maxRetries retries', () => {
    expect(shouldRetry(status(503), 2, 'GET', opts)).toBe(true);
    expect(shouldRetry(status(503), 3, 'GET', opts)).toBe(false);
    expect(shouldRetry(status(503), 1, 'GET', { ...opts, maxRetries: 0 })).toBe(false);
  });

  it('honours a Retry-After within maxDelayMs and gives up beyond it', () => {
    expect(shouldRetry(status(429, { 'retry-after': '5' }), 1, 'GET', opts)).toBe(true);
    expect(shouldRetry(status(429, { 'retry-after': '6' }), 1, 'GET', opts)).toBe(false);
    expect(shouldRetry(status(429), 1, 'GET', opts)).toBe(true);
  });
});

describe('backoffMs', () => {
  const o = { minDelayMs: 100, maxDelayMs: 1000, random: () => 0.5 };

  it('grows exponentially with equal jitter', () => {
    expect(backoffMs(1, undefined, o)).toBe(75);
    expect(backoffMs(2, undefined, o)).toBe(150);
    expect(backoffMs(3, undefined, o)).toBe(300);
    expect(backoffMs(1, undefined, { ...o, random: () => 0 })).toBe(50);
    expect(backoffMs(1, undefined, { ...o, random: () => 0.999999 })).toBe(100);
  });

  it('is capped at maxDelayMs', () => {
    expect(backoffMs(20, undefined, { ...o, random: () => 0.999999 })).toBe(1000);
  });

  it('waits exactly the Retry-After when there is a positive one', () => {
    expect(backoffMs(1, 1, { ...o, maxDelayMs: 5000 })).toBe(1000);
    expect(backoffMs(1, 0, o)).toBe(75);
  });
});

describe('retry helpers', () => {
  it('lists idempotent methods', () => {
    expect(['GET', 'PUT', 'DELETE', 'HEAD'].every((m) => isIdempotent(m))).toBe(true);
    expect(isIdempotent('POST')).toBe(false);
    expect(isIdempotent('PATCH')).toBe(false);
    expect(isIdempotent('PATCH', true)).toBe(true);
  });

  it('resolves defaults, and false as no retries', () => {
    expect(resolveRetry(undefined)).toMatchObject({
      maxRetries: 2,
      minDelayMs: 200,
      maxDelayMs: 5000,
    });
    expect(resolveRetry(false).maxRetries).toBe(0);
  });

  it('sleeps until aborted with the reason', async () => {
    const controller = new AbortController();
    const pending = sleep(60_000, controller.signal);
    controller.abort(new Error('stop'));
    await expect(pending).rejects.toThrow('stop');
    await expect(sleep(1, AbortSignal.abort(new Error('early')))).rejects.toThrow('early');
    await expect(sleep(1, undefined)).resolves.toBeUndefined();
  });
});

describe('retry loop (MockAgent)', () => {
  let env: ReturnType<typeof mockClient> | undefined;
  afterEach(async () => {
    await env?.close();
    env = undefined;
  });

  it('retries a GET after a 503 and reports both attempts', async () => {
    env = mockClient();
    const { pool, client, calls } = env;
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(503, '');
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, user('1'), { headers: SCIM_JSON });
    await expect(client.users.get('1')).resolves.toMatchObject({ id: '1' });
    expect(calls.map((c) => [c.route, c.status, c.attempt, c.errorCode])).toEqual([
      ['/Users/{id}', 503, 1, 'UPSTREAM_UNAVAILABLE'],
      ['/Users/{id}', 200, 2, undefined],
    ]);
  });

  it('does not retry a POST after a 503', async () => {
    env = mockClient();
    const { pool, client, calls } = env;
    pool.intercept({ path: `${BASE_PATH}/Users`, method: 'POST' }).reply(503, '');
    await expect(client.users.create({ userName: 'a@b.c' })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      status: 503,
    });
    expect(calls).toHaveLength(1);
  });

  it('retries an idempotent PATCH but not a plain one', async () => {
    env = mockClient();
    const { pool, client, calls } = env;
    const path = `${BASE_PATH}/Users/1`;
    pool.intercept({ path, method: 'PATCH' }).reply(502, '').times(2);
    pool.intercept({ path, method: 'PATCH' }).reply(204, '');
    const ops = [{ op: 'replace' as const, path: 'active', value: false }];
    await expect(client.users.patch('1', ops)).rejects.toMatchObject({ status: 502 });
    expect(calls).toHaveLength(1);
    await expect(client.users.patch('1', ops, { idempotent: true })).resolves.toBeUndefined();
    expect(calls.map((c) => c.status)).toEqual([502, 502, 204]);
  });

  it('waits the Retry-After of a 429 and then succeeds', async () => {
    const delays: number[] = [];
    env = mockClient({ retry: { maxDelayMs: 2000, sleep: async (ms) => void delays.push(ms) } });
    const { pool, client } = env;
    pool.intercept({ path: `${BASE_PATH}/Groups/g1`, method: 'GET' }).reply(429, '', {
      headers: { 'retry-after': '2' },
    });
    pool
      .intercept({ path: `${BASE_PATH}/Groups/g1`, method: 'GET' })
      .reply(200, { id: 'g1', displayName: 'Eng' }, { headers: SCIM_JSON });
    await expect(client.groups.get('g1')).resolves.toMatchObject({ displayName: 'Eng' });
    expect(delays).toEqual([2000]);
  });

  it('gives up on a Retry-After beyond maxDelayMs with RATE_LIMITED', async () => {
    env = mockClient();
    const { pool, client, calls, delays } = env;
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(429, '', {
      headers: { 'retry-after': '30' },
    });
    const error = await client.users.get('1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimRateLimitedError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    expect(calls).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it('surfaces the last failure after maxRetries', async () => {
    env = mockClient();
    const { pool, client, calls, delays } = env;
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(500, '')
      .times(3);
    await expect(client.users.get('1')).rejects.toMatchObject({ status: 500 });
    expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    expect(delays).toHaveLength(2);
  });

  it('retries a network error on GET', async () => {
    env = mockClient();
    const { pool, client, calls } = env;
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).replyWithError(reset);
    pool
      .intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' })
      .reply(200, user('1'), { headers: SCIM_JSON });
    await expect(client.users.get('1')).resolves.toMatchObject({ id: '1' });
    expect(calls.map((c) => [c.status, c.errorCode])).toEqual([
      [0, 'UPSTREAM_UNAVAILABLE'],
      [200, undefined],
    ]);
  });

  it('does not retry at all with retry: false', async () => {
    env = mockClient({ retry: false });
    const { pool, client, calls } = env;
    pool.intercept({ path: `${BASE_PATH}/Users/1`, method: 'GET' }).reply(503, '');
    await expect(client.users.get('1')).rejects.toMatchObject({ status: 503 });
    expect(calls).toHaveLength(1);
  });
});
