import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import type { ScimClient, UpstreamCall } from '../../src/scim/client.ts';
import { ScimUnavailableError } from '../../src/scim/errors.ts';
import { testScimClient } from '../test-config.ts';

// A caller's deadline (CallOptions.deadline, the GraphQL request's) over the client's own: the
// earlier one cuts the call off, and a call whose deadline has passed is not sent at all.

describe('CallOptions.deadline', () => {
  let emulator: Emulator;
  let scim: ScimClient;
  const calls: (UpstreamCall & { startedAt: number })[] = [];
  beforeAll(async () => {
    emulator = await createEmulator({ seed: 'empty' });
    scim = testScimClient(emulator, {
      requestTimeoutMs: 20_000,
      keepAliveTimeoutMs: 10,
      retry: { maxRetries: 5, minDelayMs: 1, maxDelayMs: 5 },
      onCall: (call) => calls.push({ ...call, startedAt: performance.now() - call.durationMs }),
    });
  });
  beforeEach(() => {
    calls.length = 0;
    emulator.faults.clear();
    emulator.log.clear();
  });
  afterAll(async () => {
    await scim.close();
    await emulator.close();
  });

  it('cuts a hung call off at the earlier deadline, as a timeout', async () => {
    emulator.faults.set({ rateHang: 1 });
    const started = performance.now();
    const error = await scim.users
      .list({ count: 1 }, { deadline: started + 300 })
      .catch((e: unknown) => e);
    const took = performance.now() - started;
    expect(error).toBeInstanceOf(ScimUnavailableError);
    expect(error).toMatchObject({ transportCode: 'TIMEOUT', requestSent: true, status: 0 });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1_000);
    expect(calls).toHaveLength(1);
  });

  it('does not send a call whose deadline has passed', async () => {
    const error = await scim.users
      .list({ count: 1 }, { deadline: performance.now() - 1 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimUnavailableError);
    expect(error).toMatchObject({ transportCode: 'TIMEOUT', requestSent: false });
    expect(emulator.log.entries).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('starts no retry that could only begin after the deadline', async () => {
    // Every answer is a 503 after 100 ms; six attempts would take 600 ms.
    emulator.faults.set({ latencyMs: 100, rate503: 1 });
    const started = performance.now();
    const error = await scim.users
      .list({ count: 1 }, { deadline: started + 250 })
      .catch((e: unknown) => e);
    // The last attempt is either a 503 or cut off at the deadline.
    expect(error).toBeInstanceOf(ScimUnavailableError);
    // Fewer than the six attempts an unbounded retry would make, counted rather than timed (a
    // wall-clock bound flaked on a loaded machine).
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThan(6);
    expect(calls.filter((c) => c.startedAt > started + 250)).toEqual([]);
  });
});
