import { afterEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { send, useEmulator } from './helpers.ts';

/** Sends a request and returns the transport error instead of throwing it. */
async function attempt(emulator: Emulator, method: string, path: string, body?: unknown) {
  try {
    return await send(emulator, method, path, body === undefined ? {} : { body });
  } catch (error) {
    return error as Error;
  }
}

describe('scripted faults', () => {
  const emulator = useEmulator();
  afterEach(() => emulator().faults.clear());

  it('answers 429 with Retry-After, then serves the next request normally', async () => {
    emulator().faults.enqueue({ method: 'GET', path: '/Users', fault: 429, retryAfterSeconds: 7 });
    const limited = await send(emulator(), 'GET', '/Users?count=1');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.body).toMatchObject({ status: '429' });
    expect((await send(emulator(), 'GET', '/Users?count=1')).status).toBe(200);
    expect(emulator().faults.pending()).toBe(0);
  });

  it('answers 500 and 503 as many times as asked, only on matching requests', async () => {
    emulator().log.clear();
    emulator().faults.enqueue({ path: /^\/Groups/, fault: 503, times: 2 });
    emulator().faults.enqueue({ method: 'get', path: /^\/Users$/, fault: 500 });
    expect((await send(emulator(), 'GET', '/ServiceProviderConfig')).status).toBe(200);
    expect((await send(emulator(), 'GET', '/Groups')).status).toBe(503);
    expect((await send(emulator(), 'GET', '/Users')).status).toBe(500);
    expect((await send(emulator(), 'GET', '/Groups')).status).toBe(503);
    expect((await send(emulator(), 'GET', '/Groups')).status).toBe(200);
    expect(
      emulator()
        .log.filter(undefined, '/Groups')
        .map((e) => e.fault),
    ).toEqual(expect.arrayContaining([503, 503, undefined]));
  });

  it('reset-before-apply creates nothing and logs the reset', async () => {
    const store = emulator().store;
    const before = store.userCount;
    emulator().faults.enqueue({ method: 'POST', path: /^\/Users$/, fault: 'reset-before-apply' });
    const result = await attempt(emulator(), 'POST', '/Users', { userName: 'before@example.com' });
    expect(result).toBeInstanceOf(Error);
    expect(store.userCount).toBe(before);
    expect(store.findUserByUserName('before@example.com')).toBeUndefined();
    expect(emulator().log.last()).toMatchObject({
      method: 'POST',
      path: '/Users',
      status: 0,
      outcome: 'reset',
      fault: 'reset-before-apply',
    });
  });

  it('reset-after-apply commits exactly one user; the retry then gets 409', async () => {
    const store = emulator().store;
    emulator().faults.enqueue({ method: 'POST', path: /^\/Users$/, fault: 'reset-after-apply' });
    const result = await attempt(emulator(), 'POST', '/Users', { userName: 'after@example.com' });
    expect(result).toBeInstanceOf(Error);
    expect(store.listUsers().filter((u) => u.userName === 'after@example.com')).toHaveLength(1);
    expect(emulator().log.last()).toMatchObject({
      status: 0,
      outcome: 'reset',
      fault: 'reset-after-apply',
      appliedStatus: 201,
    });
    const retry = await send(emulator(), 'POST', '/Users', {
      body: { userName: 'after@example.com' },
    });
    expect(retry.status).toBe(409);
    expect(store.listUsers().filter((u) => u.userName === 'after@example.com')).toHaveLength(1);
  });

  it('reset-after-apply on POST /Groups leaves a team that a retry would duplicate', async () => {
    const store = emulator().store;
    emulator().faults.enqueue({ method: 'POST', path: '/Groups', fault: 'reset-after-apply' });
    const result = await attempt(emulator(), 'POST', '/Groups', { displayName: 'Twice' });
    expect(result).toBeInstanceOf(Error);
    expect(store.listTeams().filter((t) => t.displayName === 'Twice')).toHaveLength(1);
    expect(
      (await send(emulator(), 'POST', '/Groups', { body: { displayName: 'Twice' } })).status,
    ).toBe(201);
    expect(store.listTeams().filter((t) => t.displayName === 'Twice')).toHaveLength(2);
  });
});

describe('hang', () => {
  it('never answers, is logged, and close() still finishes', async () => {
    const emulator = await createEmulator({ faults: {} });
    emulator.faults.enqueue({ fault: 'hang' });
    const controller = new AbortController();
    const pending = fetch(`${emulator.baseUrl}/Users`, {
      headers: { authorization: `Bearer ${emulator.token}` },
      signal: controller.signal,
    }).then(
      (r) => r.status,
      (error: Error) => error,
    );
    await expect.poll(() => emulator.log.entries.length).toBe(1);
    expect(emulator.log.entries[0]).toMatchObject({ status: 0, outcome: 'hang', fault: 'hang' });
    await emulator.close();
    expect(await pending).toBeInstanceOf(Error);
    controller.abort();
  });
});

describe('random faults', () => {
  const runs: Emulator[] = [];
  afterEach(async () => {
    await Promise.all(runs.splice(0).map((e) => e.close()));
  });

  const statuses = async (options: Parameters<typeof createEmulator>[0]) => {
    const emulator = await createEmulator(options);
    runs.push(emulator);
    const out: number[] = [];
    for (let i = 0; i < 40; i++) out.push((await send(emulator, 'GET', '/Users?count=1')).status);
    return { emulator, out };
  };

  it('draws the same faults from the same seed, in the configured shares', async () => {
    const faults = { seed: 42, rate429: 0.25, rate500: 0.1, rate503: 0.1, retryAfterSeconds: 3 };
    const a = await statuses({ faults });
    const b = await statuses({ faults });
    expect(a.out).toEqual(b.out);
    expect(new Set(a.out)).toEqual(new Set([200, 429, 500, 503]));
    const c = await statuses({ faults: { ...faults, seed: 43 } });
    expect(c.out).not.toEqual(a.out);
  });

  it('limits random faults to the configured methods, and can be set and cleared at runtime', async () => {
    const { emulator, out } = await statuses({ faults: { rate503: 1, methods: ['POST'] } });
    expect(out.every((s) => s === 200)).toBe(true);
    const posted = await send(emulator, 'POST', '/Users', { body: { userName: 'r@example.com' } });
    expect(posted.status).toBe(503);
    expect(posted.headers.get('retry-after')).toBe('1');
    expect(emulator.store.userCount).toBe(0);
    emulator.faults.clear();
    expect(
      (await send(emulator, 'POST', '/Users', { body: { userName: 'r@example.com' } })).status,
    ).toBe(201);
    emulator.faults.set({ rate500: 1 });
    expect((await send(emulator, 'GET', '/Users')).status).toBe(500);
  });

  it('refuses a share outside 0..1', async () => {
    await expect(createEmulator({ faults: { rate429: 1.5 } })).rejects.toThrow(/rate429/);
  });
});

describe('latency', () => {
  it('delays answers without changing them, and close() ends requests still waiting', async () => {
    const emulator = await createEmulator({ latencyMs: 5, faults: { latencyMs: 5 } });
    const reply = await send(emulator, 'GET', '/Users');
    expect(reply.status).toBe(200);
    expect(emulator.log.last()?.durationMs).toBeGreaterThan(0);
    emulator.faults.set({ latencyMs: 60_000 });
    const waiting = send(emulator, 'GET', '/Users').catch((error: Error) => error);
    await expect.poll(() => emulator.log.inFlight).toBe(1);
    await emulator.close();
    expect(await waiting).toBeInstanceOf(Error);
    expect(emulator.log.last()).toMatchObject({ status: 0, outcome: 'reset' });
    expect(emulator.log.inFlight).toBe(0);
  });
});
