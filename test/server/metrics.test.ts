import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetrics, type Metrics } from '../../src/metrics.ts';
import { type Stack, startStack } from '../helpers.ts';

// /metrics after a few operations: the upstream histogram counts exactly the attempts the
// emulator logged (retries and 429s included), by method, route template and status.

const KEY = 'scraper-key-0123456789abcdef';
let stack: Stack;
let metrics: Metrics;

beforeAll(async () => {
  metrics = createMetrics({ defaultMetrics: false });
  stack = await startStack({
    env: { API_KEYS: KEY },
    probe: false,
    client: { observe: metrics.observeUpstream },
    app: { metrics },
  });
  metrics.watchPool(stack.scim, 16);
});
afterAll(() => stack.close());

const post = (query: string) =>
  stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query }),
  });

async function scrape(): Promise<Map<string, number>> {
  const response = await stack.app.fetch('http://facade.test/metrics', {
    headers: { authorization: `Bearer ${KEY}` },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\w+(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

/** The emulator's log in the histogram's terms: `METHOD route status` → attempts. */
function loggedAttempts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { method, path, status } of stack.upstreamCalls()) {
    const route = path.split('?')[0]?.replace(/^\/(Users|Groups)\/[^/]+$/, '/$1/{id}');
    const key = `${method} ${route} ${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

describe('/metrics', () => {
  it('needs the API key like GraphQL does', async () => {
    expect((await stack.app.fetch('http://facade.test/metrics')).status).toBe(401);
  });

  it('counts every upstream attempt the emulator logged, retries and 429s included', async () => {
    await post(
      'query UsersWithTeams { users(first: 10) { edges { node { teams { totalCount } } } } }',
    );
    await post('{ team(name: "Engineering") { members(first: 5) { totalCount } } }');
    stack.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 503 });
    stack.emulator.faults.enqueue({
      method: 'GET',
      path: '/Users',
      fault: 429,
      retryAfterSeconds: 0,
    });
    await post('query Retried { users(first: 3) { totalCount } }');
    await post('{ users(first: 101) { totalCount } }');

    const samples = await scrape();
    const histogram = new Map<string, number>();
    for (const [name, value] of samples) {
      const match =
        /^keeper_upstream_request_seconds_count\{method="(\w+)",route="([^"]+)",status="(\d+)"\}$/.exec(
          name,
        );
      if (match) histogram.set(`${match[1]} ${match[2]} ${match[3]}`, value);
    }
    const logged = loggedAttempts();
    expect(logged.get('GET /Users 503')).toBe(1);
    expect(logged.get('GET /Users 429')).toBe(1);
    expect(histogram).toEqual(logged);

    expect(samples.get('keeper_upstream_retries_total{method="GET",route="/Users"}')).toBe(2);
    expect(samples.get('keeper_upstream_rate_limited_total{method="GET",route="/Users"}')).toBe(1);
    expect(samples.get('keeper_upstream_in_flight')).toBe(0);
    expect(samples.get('keeper_upstream_pool_connections{state="max"}')).toBe(16);
    expect(samples.get('keeper_upstream_pool_queued')).toBe(0);
    expect(samples.get('keeper_graphql_errors_total{code="BAD_USER_INPUT"}')).toBe(1);
    expect(
      samples.get(
        'keeper_graphql_request_duration_seconds_count{operation="UsersWithTeams",type="query",outcome="ok"}',
      ),
    ).toBe(1);
    expect(
      samples.get(
        'keeper_graphql_request_duration_seconds_count{operation="anonymous",type="query",outcome="failed"}',
      ),
    ).toBe(1);
  });
});
