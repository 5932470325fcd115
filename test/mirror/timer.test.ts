import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ScimClient } from '../../src/scim/client.ts';
import { startMirrorFixture } from './fixture.ts';

// The background refresh of `mirror.start()`, driven by vitest's fake timers (only setTimeout and
// clearTimeout are faked, so the emulator and the HTTP client run for real over loopback). Each
// full read's Users listing waits at a gate the test opens, so a refresh can be made to outlast
// the interval without any wall-clock wait.

const INTERVAL_S = 60;

afterEach(() => {
  vi.useRealTimers();
});

/** The real client, whose Users listing first waits for `open()` (one gate per full read). */
function gatedScim(scim: ScimClient) {
  const gates: { open: () => void; fail: (e: Error) => void }[] = [];
  const listAll: ScimClient['users']['listAll'] = (...args) =>
    new Promise<void>((resolve, reject) => {
      gates.push({ open: () => resolve(), fail: reject });
    }).then(() => scim.users.listAll(...args));
  const users = Object.assign(Object.create(scim.users) as ScimClient['users'], { listAll });
  const client = Object.assign(Object.create(scim) as ScimClient, { users });
  return { client, gates };
}

/** Lets promise chains and the loopback round trips settle (fake timers stay where they are). */
async function settle(mirror: { status(): { refreshing: boolean } }) {
  for (let i = 0; i < 200 && mirror.status().refreshing; i++) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  await vi.advanceTimersByTimeAsync(0);
}

describe('directory mirror: the background timer', () => {
  it('refreshes at start and once per interval, single-flight, keeps the old snapshot on failure, and stops on close', async () => {
    const f = await startMirrorFixture();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { client, gates } = gatedScim(f.scim);
    const failures: string[] = [];
    const mirror = f.mirror({
      scim: client,
      refreshSeconds: INTERVAL_S,
      onError: (what, error) => failures.push(`${what}: ${(error as Error).message}`),
    });
    const reads = () => gates.length;

    // The first refresh starts at once.
    mirror.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(reads()).toBe(1);
    expect(mirror.current()).toBeUndefined();
    gates[0]?.open();
    await settle(mirror);
    const first = mirror.current();
    expect(first).toBeDefined();
    expect(first?.users.size).toBe(f.emulator.store.userCount);

    // Nothing before the interval has passed, exactly one read when it has.
    await vi.advanceTimersByTimeAsync(INTERVAL_S * 1000 - 1);
    expect(reads()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads()).toBe(2);

    // That read outlasts five intervals: no second refresh starts meanwhile.
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_S * 1000);
    expect(reads()).toBe(2);
    expect(mirror.status().refreshing).toBe(true);
    // The slow read finishes; the next interval is counted from its end.
    gates[1]?.open();
    await settle(mirror);
    expect(mirror.status().refreshing).toBe(false);
    await vi.advanceTimersByTimeAsync(INTERVAL_S * 1000 - 1);
    expect(reads()).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads()).toBe(3);

    // A failing refresh keeps the snapshot it had and records why; the next interval tries again.
    const before = mirror.current();
    const asOf = mirror.status().asOf;
    gates[2]?.fail(new Error('upstream down'));
    await settle(mirror);
    expect(mirror.current()).toBe(before);
    expect(mirror.status().asOf).toEqual(asOf);
    expect(mirror.status().lastError?.message).toBe('upstream down');
    expect(failures).toEqual(['mirror refresh: upstream down']);
    await vi.advanceTimersByTimeAsync(INTERVAL_S * 1000);
    expect(reads()).toBe(4);
    f.emulator.store.createUser({ userName: 'timer@example.com', active: true });
    gates[3]?.open();
    await settle(mirror);
    expect(mirror.status().lastError).toBeUndefined();
    expect(mirror.current()?.users.size).toBe(f.emulator.store.userCount);

    // close(): no refresh timer is left, and no further reads happen however long we wait.
    // (The HTTP client's own timers count too, so compare with the count before close.)
    const pending = vi.getTimerCount();
    await mirror.close();
    expect(vi.getTimerCount()).toBe(pending - 1);
    await vi.advanceTimersByTimeAsync(10 * INTERVAL_S * 1000);
    expect(reads()).toBe(4);
  });
});
