import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers.ts';

// Every upstream call in flight listens on its request's abort signal, and one request makes up to
// UPSTREAM_REQUEST_CONCURRENCY of them at once: that is no leak, and must not print Node's
// MaxListenersExceededWarning, whether the request came over HTTP (@whatwg-node/server's signal,
// which has no limit) or through `app.fetch` (a plain AbortSignal, whose limit of 10 is raised).

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

async function warningsDuring(work: () => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  const onWarning = (warning: Error) => seen.push(`${warning.name}: ${warning.message}`);
  process.on('warning', onWarning);
  try {
    await work();
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', onWarning);
  }
  return seen.filter((w) => w.startsWith('MaxListenersExceededWarning'));
}

describe('the abort signal of a request with many upstream calls at once', () => {
  it('warns of no listener leak, over HTTP or through app.fetch', async () => {
    // A scan limit below the node's size: the lookup is 50 GETs, not a scan of the node.
    const s = await startStack({ env: { UPSTREAM_SCAN_LIMIT: '100' } });
    stack = s;
    // 50 users by id: 50 GETs at once (UPSTREAM_REQUEST_CONCURRENCY is 64).
    const ids = s.emulator.store
      .listUsers()
      .slice(0, 50)
      .map((u) => Buffer.from(`User:${u.id}`).toString('base64'));
    const body = JSON.stringify({
      query: `{ nodes(ids: ${JSON.stringify(ids)}) { id } }`,
    });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body };

    const server = createServer(s.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const warnings = await warningsDuring(async () => {
        s.resetLog();
        const overHttp = await fetch(`http://127.0.0.1:${port}/graphql`, init);
        expect(((await overHttp.json()) as { data: { nodes: unknown[] } }).data.nodes).toHaveLength(
          50,
        );
        expect(s.upstreamCalls()).toHaveLength(50);
        s.resetLog();
        const inProcess = await s.app.fetch('http://facade.test/graphql', init);
        expect(
          ((await inProcess.json()) as { data: { nodes: unknown[] } }).data.nodes,
        ).toHaveLength(50);
        expect(s.upstreamCalls()).toHaveLength(50);
      });
      expect(warnings).toEqual([]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
