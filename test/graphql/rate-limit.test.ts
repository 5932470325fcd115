import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// CALLER_RATE_LIMIT: each caller has its own budget of requests per minute; beyond it the answer
// is 429 RATE_LIMITED with retryAfter, before any upstream call, and other callers are unaffected.

const A = 'caller-a-key-0123456789abcdef';
const B = 'caller-b-key-0123456789abcdef';

describe('per-caller rate limit', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { API_KEYS: `${A},${B}`, CALLER_RATE_LIMIT: '3' } });
  });
  afterAll(() => stack.close());

  const ask = (key: string) =>
    stack.app.fetch('http://facade.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });

  it('refuses the fourth request of a minute with RATE_LIMITED and retryAfter, per caller', async () => {
    for (let i = 0; i < 3; i++) expect((await ask(A)).status).toBe(200);
    stack.resetLog();
    const refused = await ask(A);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('20');
    expect(await refused.json()).toEqual({
      errors: [
        {
          message: expect.stringContaining('Too many requests'),
          extensions: { code: 'RATE_LIMITED', retryAfter: 20 },
        },
      ],
    });
    expect(stack.upstreamCalls()).toEqual([]);
    expect((await ask(B)).status).toBe(200);
  });
});
