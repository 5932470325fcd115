import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { type Stack, startStack } from '../helpers.ts';

// One access-log line per GraphQL request, with the request id the response carries.

const KEY = 'portal-key-0123456789abcdef';
type Line = Record<string, unknown> & {
  level: string;
  reqId: string;
  upstream?: { calls: number; retries: number; ms: number; failed?: string[] };
  errors?: { code: string; message?: string }[];
};

let stack: Stack;
const lines: string[] = [];
const logged = () => lines.map((l) => JSON.parse(l) as Line);

beforeAll(async () => {
  const log = createLogger({
    level: 'debug',
    format: 'json',
    secrets: [KEY],
    destination: { write: (line: string) => lines.push(line) },
  });
  stack = await startStack({ env: { API_KEYS: KEY }, app: { log, logError: undefined } });
});
afterAll(() => stack.close());

async function post(query: string, headers: Record<string, string> = {}) {
  lines.length = 0;
  stack.resetLog();
  const response = await stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}`, ...headers },
    body: JSON.stringify({ query }),
  });
  return { response, body: (await response.json()) as { errors?: unknown[] } };
}

const USERS_WITH_TEAMS =
  'query UsersWithTeams { users(first: 5) { edges { node { userName teams { totalCount } } } } }';

describe('access log', () => {
  it('one info line per request: id, operation, status, duration, caller, upstream calls', async () => {
    const { response } = await post(USERS_WITH_TEAMS, { 'x-request-id': 'req-42' });
    expect(response.headers.get('x-request-id')).toBe('req-42');
    const access = logged();
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 'info',
      reqId: 'req-42',
      method: 'POST',
      path: '/graphql',
      status: 200,
      operation: { name: 'UsersWithTeams', type: 'query' },
      caller: createHash('sha256').update(KEY).digest('hex').slice(0, 16),
      upstream: { calls: stack.upstreamCalls().length, retries: 0 },
    });
    expect(access[0]?.upstream?.calls).toBe(2);
    expect(access[0]?.durationMs).toEqual(expect.any(Number));
  });

  it('generates an id when the caller sends none or an unusable one', async () => {
    const variants: Record<string, string>[] = [{}, { 'x-request-id': 'two words\u0007' }];
    for (const headers of variants) {
      const { response } = await post('{ __typename }', headers);
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(logged()[0]?.reqId).toBe(id);
    }
  });

  it('a caller mistake is one warn line with its code, before any upstream call', async () => {
    await post('{ users(first: 101) { totalCount } }');
    const access = logged();
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: 'warn',
      upstream: { calls: 0 },
      errors: [{ code: 'BAD_USER_INPUT' }],
    });
    expect(JSON.stringify(access)).not.toContain('    at ');
  });

  it('an upstream failure after retries is a warn line naming each failed attempt', async () => {
    stack.emulator.faults.set({ rate503: 1 });
    try {
      await post('{ users(first: 2) { totalCount } }');
    } finally {
      stack.emulator.faults.clear();
    }
    const [line] = logged();
    expect(line).toMatchObject({ level: 'warn', errors: [{ code: 'UPSTREAM_UNAVAILABLE' }] });
    expect(line?.upstream?.failed).toEqual([
      'GET /Users 503 UPSTREAM_UNAVAILABLE #1',
      'GET /Users 503 UPSTREAM_UNAVAILABLE #2',
      'GET /Users 503 UPSTREAM_UNAVAILABLE #3',
    ]);
  });

  it('an unexpected error is logged once with its stack, and its access line is an error', async () => {
    const { list } = stack.scim.users;
    stack.scim.users.list = () => Promise.reject(new TypeError('a bug in the facade'));
    try {
      const { body } = await post('{ users(first: 2) { totalCount } }');
      expect(JSON.stringify(body)).not.toContain('a bug');
    } finally {
      stack.scim.users.list = list;
    }
    const all = logged();
    const withStack = all.filter((l) => JSON.stringify(l).includes('a bug in the facade'));
    expect(withStack).toHaveLength(1);
    expect(withStack[0]).toMatchObject({ level: 'error', msg: 'unexpected error' });
    const err = withStack[0]?.err as { stack: string } | undefined;
    expect(err?.stack).toContain('TypeError: a bug');
    expect(all.filter((l) => l.path === '/graphql')).toMatchObject([
      { level: 'error', errors: [{ code: 'INTERNAL_SERVER_ERROR' }] },
    ]);
  });

  it('readiness probes are debug lines', async () => {
    lines.length = 0;
    await stack.app.fetch('http://facade.test/ready');
    expect(logged().map((l) => [l.level, l.path])).toEqual([['debug', '/ready']]);
  });
});
