import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { UpstreamCall } from '../../src/scim/client.ts';
import { UserLookupDocument, UserPageDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// Deadlines that hold: one SCIM call never outlives UPSTREAM_TIMEOUT_MS, even after V8 has
// optimised the client and a garbage collection has run, and one GraphQL request never outlives
// REQUEST_TIMEOUT_MS, however many pages or retries it would need: no upstream attempt starts
// after the request's deadline.

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Slack for timers and a busy 2-core machine; the failures it guards against are 30 s long. */
const SLACK_MS = 750;
/**
 * The request's deadline runs from when its context is built, a little after the test takes the
 * time; attempts starting within this much of the test's deadline are still before the request's.
 */
const CONTEXT_MS = 100;

type ChildResult = { upstreamTimeoutMs: number; queries: { ms: number; code: string | null }[] };

function runChild(
  file: string,
  killAfterMs: number,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', '--interrupt-budget=8192', '--import', 'tsx', file],
      { cwd: root, env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test' } },
    );
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    const kill = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('exit', (code) => {
      clearTimeout(kill);
      resolve({ code, out });
    });
  });
}

describe('the upstream deadline after optimisation and garbage collection', () => {
  it('ends every query on a hung upstream within UPSTREAM_TIMEOUT_MS with UPSTREAM_UNAVAILABLE', async () => {
    const { code, out } = await runChild('test/graphql/deadline-gc.child.ts', 45_000);
    const line = out.split('\n').find((l) => l.startsWith('{"upstreamTimeoutMs"'));
    // Killed (no line) means the queries were still waiting long after their deadline.
    expect(line, `child exited ${code}:\n${out}`).toBeDefined();
    const result = JSON.parse(line ?? '{}') as ChildResult;
    expect(result.queries).toHaveLength(8);
    for (const query of result.queries) {
      expect(query.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(query.ms).toBeLessThan(result.upstreamTimeoutMs + SLACK_MS);
    }
  }, 60_000);
});

describe('REQUEST_TIMEOUT_MS', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /** A stack whose client reports every attempt with the time it started. */
  async function start(env: Record<string, string>) {
    const attempts: { startedAt: number; call: UpstreamCall }[] = [];
    stack = await startStack({
      env: { REQUEST_TIMEOUT_MS: '1000', UPSTREAM_TIMEOUT_MS: '20000', ...env },
      client: {
        onCall: (call) => attempts.push({ startedAt: performance.now() - call.durationMs, call }),
      },
    });
    // One query first, so that what is measured is not the first request's start-up work.
    const someUser = stack.emulator.store.listUsers()[3]?.id ?? '';
    await stack.run(UserLookupDocument, { keeperId: someUser });
    attempts.length = 0;
    return { stack, attempts, someUser };
  }

  it('bounds a scan of many slow pages, and no page is asked for after it', async () => {
    // 520 users in pages of 10, one at a time, 100 ms each: about 5 s of pages.
    const { stack, attempts } = await start({
      UPSTREAM_PAGE_SIZE: '10',
      UPSTREAM_REQUEST_CONCURRENCY: '1',
    });
    stack.emulator.faults.set({ latencyMs: 100 });
    const started = performance.now();
    const answer = await stack.run(UserPageDocument, { first: 5, filter: { active: true } });
    const took = performance.now() - started;

    expect(answer.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(took).toBeLessThan(1000 + SLACK_MS);
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.filter((a) => a.startedAt > started + 1000 + CONTEXT_MS)).toEqual([]);
  });

  it('bounds retries of a failing call, and no retry starts after it', async () => {
    const { stack, attempts, someUser } = await start({ UPSTREAM_MAX_RETRIES: '10' });
    // Every GET answers 503 after 200 ms: 11 attempts would take over 2 s.
    stack.emulator.faults.set({ latencyMs: 200, rate503: 1, methods: ['GET'] });
    const started = performance.now();
    const answer = await stack.run(UserLookupDocument, { keeperId: someUser });
    const took = performance.now() - started;

    expect(answer.errors?.[0]?.extensions?.['code']).toBe('UPSTREAM_UNAVAILABLE');
    expect(took).toBeLessThan(1000 + SLACK_MS);
    expect(attempts.length).toBeGreaterThan(1);
    expect(attempts.filter((a) => a.startedAt > started + 1000 + CONTEXT_MS)).toEqual([]);
  });
});
