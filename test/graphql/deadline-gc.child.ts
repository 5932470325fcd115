import { performance } from 'node:perf_hooks';
import { UserLookupDocument, UserPageDocument } from '../generated/graphql.ts';
import { startStack } from '../helpers.ts';

// Run by deadline.test.ts as `node --expose-gc --interrupt-budget=8192 --import tsx <this file>`:
// the deadline of an upstream call must hold after the code is optimised and a garbage collection
// has run. On Node 20 a deadline built from AbortSignal.timeout + AbortSignal.any is collected then
// and never fires (nodejs/node#57736), so a hung upstream is only cut off by undici's 30 s headers
// timeout. A small interrupt budget makes V8 optimise after a few hundred queries instead of a
// thousand. Prints one JSON line: the duration and error code of every query sent while the
// upstream hangs.

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

const UPSTREAM_TIMEOUT_MS = 1_000;
const stack = await startStack({
  env: { UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS), REQUEST_TIMEOUT_MS: '3000' },
});
const someUser = stack.emulator.store.listUsers()[3]?.id ?? '';

// Warm up: enough queries for the resolvers and the client to be optimised.
const warm = Number(process.env.WARM_QUERIES ?? 300);
for (let i = 0; i < warm; i += 10) {
  const answers = await Promise.all(
    Array.from({ length: 10 }, (_, j) =>
      j % 2 === 0
        ? stack.run(UserPageDocument, { first: 5 })
        : stack.run(UserLookupDocument, { keeperId: someUser }),
    ),
  );
  const failed = answers.find((a) => a.errors);
  if (failed) throw new Error(`warm-up failed: ${JSON.stringify(failed.errors)}`);
}
gc();

// Every upstream request from now on is left without an answer; a collection runs while the
// queries wait for it, as one would in a busy process.
stack.emulator.faults.set({ rateHang: 1 });
const pending = Promise.all(
  Array.from({ length: 8 }, async (_, i) => {
    const started = performance.now();
    const answer =
      i % 2 === 0
        ? await stack.run(UserPageDocument, { first: 5 })
        : await stack.run(UserLookupDocument, { keeperId: someUser });
    return {
      ms: Math.round(performance.now() - started),
      code: answer.errors?.[0]?.extensions?.['code'] ?? null,
    };
  }),
);
for (let i = 0; i < 3; i++) {
  await new Promise((resolve) => setTimeout(resolve, 100));
  gc();
}
const queries = await pending;
console.log(JSON.stringify({ upstreamTimeoutMs: UPSTREAM_TIMEOUT_MS, queries }));
// The hung sockets would keep the emulator open: exit without waiting for them.
process.exit(0);
