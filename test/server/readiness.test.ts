import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { drainServer } from '../../src/lifecycle.ts';
import { type Stack, startStack } from '../helpers.ts';

// /ready under stress: an orchestrator (and anyone else, it needs no key) may probe it often and
// all at once; during an outage every probe must not become its own upstream call with retries.

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

const ready = (s: Stack) => s.app.fetch('http://facade.test/ready');

describe('/ready', () => {
  it('coalesces 200 concurrent probes during an outage into one upstream call, and remembers the failure', async () => {
    stack = await startStack();
    stack.emulator.faults.set({ rate503: 1 });
    stack.resetLog();
    const answers = await Promise.all(Array.from({ length: 200 }, () => ready(stack as Stack)));
    expect(answers.every((r) => r.status === 503)).toBe(true);
    // One call: its first attempt and the client's retries (UPSTREAM_MAX_RETRIES = 2).
    const calls = stack.upstreamCalls();
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.length).toBeLessThanOrEqual(3);
    expect(new Set(calls.map((c) => c.path))).toEqual(new Set(['/Users?startIndex=1&count=1']));
    // A second wave right after is answered from the remembered failure.
    stack.resetLog();
    const again = await Promise.all(Array.from({ length: 200 }, () => ready(stack as Stack)));
    expect(again.every((r) => r.status === 503)).toBe(true);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('coalesces concurrent probes while the upstream is healthy', async () => {
    stack = await startStack();
    stack.resetLog();
    const answers = await Promise.all(Array.from({ length: 50 }, () => ready(stack as Stack)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(stack.upstreamCalls()).toHaveLength(1);
  });

  it('answers 503 as soon as shutdown begins, without asking the upstream', async () => {
    stack = await startStack();
    expect((await ready(stack)).status).toBe(200);
    stack.resetLog();
    stack.lifecycle.beginShutdown();
    expect((await ready(stack)).status).toBe(503);
    expect((await stack.app.fetch('http://facade.test/health')).status).toBe(200);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('is the path /ready alone: a query string or another path that ends with /ready is not a probe', async () => {
    stack = await startStack();
    expect((await ready(stack)).headers.get('content-type')).toContain('application/json');
    const query = await stack.app.fetch(
      `http://facade.test/graphql?query=${encodeURIComponent('{ __typename }')}&next=/ready`,
      { headers: { 'x-graphql-csrf': '1' } },
    );
    expect(await query.json()).toMatchObject({ data: { __typename: 'Query' } });
    expect((await stack.app.fetch('http://facade.test/other/ready')).status).toBe(404);
  });
});

describe('drainServer', () => {
  async function listen(s: Stack) {
    const server = createServer(s.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { server, url: `http://127.0.0.1:${port}/graphql` };
  }
  const query = (url: string) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ users(first: 1) { totalCount } }' }),
    });
  const inFlight = async (s: Stack) => {
    for (let i = 0; i < 100 && s.emulator.log.inFlight === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it('lets a request in flight finish within the grace period, and refuses new connections', async () => {
    stack = await startStack();
    const { server, url } = await listen(stack);
    stack.emulator.faults.set({ latencyMs: 300 });
    const pending = query(url);
    await inFlight(stack);
    const drained = drainServer(server, 10_000);
    await expect(query(url)).rejects.toThrow();
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ data: { users: { totalCount: 520 } } });
    expect(await drained).toBe('drained');
  });

  it('cuts off what is still running when the grace period ends', async () => {
    stack = await startStack();
    const { server, url } = await listen(stack);
    stack.emulator.faults.set({ rateHang: 1 });
    const pending = query(url).catch((error: unknown) => error);
    await inFlight(stack);
    expect(await drainServer(server, 200)).toBe('forced');
    expect(await pending).toBeInstanceOf(Error);
  });
});
