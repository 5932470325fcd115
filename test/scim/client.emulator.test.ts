import { Pool } from 'undici';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import type { ScimClient, ScimClientOptions, UpstreamCall } from '../../src/scim/client.ts';
import {
  ScimConflictError,
  ScimInvalidRequestError,
  ScimNotFoundError,
  ScimRateLimitedError,
  ScimSeatLimitError,
  ScimUnauthorizedError,
  ScimUnavailableError,
} from '../../src/scim/errors.ts';
import { groupEq, orEq, userEq } from '../../src/scim/filter.ts';
import {
  addGroups,
  addMembers,
  removeMembers,
  renameGroup,
  replaceAttributes,
  setActive,
} from '../../src/scim/patch.ts';
import { testScimClient } from '../test-config.ts';

// The client against the emulator over real HTTP on loopback: every operation, every error class
// from a real answer, paging at the exact boundaries, and retries as the upstream sees them.

let emulator: Emulator;
const clients: ScimClient[] = [];

/** A client for the emulator; retries wait 0 ms (recorded), and it is closed after the test. */
function client(options: Partial<ScimClientOptions> = {}) {
  const calls: UpstreamCall[] = [];
  const delays: number[] = [];
  const c = testScimClient(emulator, {
    keepAliveTimeoutMs: 10,
    onCall: (call) => calls.push(call),
    retry: {
      minDelayMs: 1,
      maxDelayMs: 50,
      sleep: async (ms) => {
        delays.push(ms);
      },
    },
    ...options,
  });
  clients.push(c);
  return { scim: c, calls, delays };
}

const seedUsers = (n: number, prefix = 'user') =>
  Array.from({ length: n }, (_, i) =>
    emulator.store.createUser({ userName: `${prefix}${i + 1}@example.com` }),
  );

beforeAll(async () => {
  emulator = await createEmulator({ profile: 'keeper', seed: 'empty', seats: 1000 });
});
afterEach(async () => {
  emulator.faults.clear();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => emulator.log.clear());

describe('scim client against the emulator: operations', () => {
  it('creates, reads, lists, replaces, patches and locks a user', async () => {
    const { scim } = client();
    const created = await scim.users.create({
      userName: 'jane.doe@example.com',
      displayName: 'Jane Doe',
      externalId: 'ext-jane',
      name: { givenName: 'Jane', familyName: 'Doe' },
    });
    expect(created).toMatchObject({ userName: 'jane.doe@example.com', active: true });
    expect(created.id).toMatch(/^\d+$/);

    await expect(scim.users.get(created.id)).resolves.toMatchObject({ displayName: 'Jane Doe' });
    const byName = await scim.users.list({ filter: userEq('userName', 'jane.doe@example.com') });
    expect(byName.Resources.map((u) => u.id)).toEqual([created.id]);
    const byExt = await scim.users.list({ filter: userEq('externalId', 'ext-jane') });
    expect(byExt.totalResults).toBe(1);

    const replaced = await scim.users.replace(created.id, {
      userName: 'jane.doe@example.com',
      displayName: 'Jane Q. Doe',
      active: true,
    });
    expect(replaced.displayName).toBe('Jane Q. Doe');

    const patched = await scim.users.patch(created.id, [
      ...replaceAttributes({ displayName: 'J. Doe', 'name.familyName': 'Roe' }),
      ...setActive(false),
    ]);
    // The emulator answers PATCH with 200 and the resource.
    expect(patched).toMatchObject({
      displayName: 'J. Doe',
      active: false,
      name: { familyName: 'Roe' },
    });

    await scim.users.patch(created.id, setActive(true), { idempotent: true });
    await expect(scim.users.delete(created.id)).resolves.toBeUndefined();
    // Keeper locks on DELETE: the user is still there, inactive (docs/keeper-scim.md §7).
    await expect(scim.users.get(created.id)).resolves.toMatchObject({ active: false });
    expect(emulator.log.entries.map((e) => `${e.method} ${e.status}`)).toEqual([
      'POST 201',
      'GET 200',
      'GET 200',
      'GET 200',
      'PUT 200',
      'PATCH 200',
      'PATCH 200',
      'DELETE 204',
      'GET 200',
    ]);
  });

  it('creates, renames, fills, empties and deletes a group', async () => {
    const { scim } = client();
    const [a, b] = seedUsers(2, 'member');
    const group = await scim.groups.create({ displayName: 'Client Team', externalId: 'ext-team' });
    expect(group).toMatchObject({ displayName: 'Client Team', externalId: 'ext-team' });
    await scim.groups.patch(group.id, renameGroup('Client Team 2'));
    await scim.groups.patch(group.id, addMembers([a?.id ?? '', b?.id ?? '']));
    const full = await scim.groups.get(group.id);
    expect(full.displayName).toBe('Client Team 2');
    expect(full.members?.map((m) => m.value).sort()).toEqual([a?.id, b?.id].sort());
    await scim.groups.patch(group.id, removeMembers([a?.id ?? '']));
    const found = await scim.groups.list({ filter: groupEq('displayName', 'Client Team 2') });
    expect(found.Resources.map((g) => g.members?.map((m) => m.value))).toEqual([[b?.id]]);
    const all = await scim.groups.listAll();
    expect(all.complete).toBe(true);
    expect(all.Resources.map((g) => g.id)).toContain(group.id);
    await scim.groups.delete(group.id);
    await expect(scim.groups.get(group.id)).rejects.toBeInstanceOf(ScimNotFoundError);
  });

  it('joins a team through User.groups', async () => {
    const { scim } = client();
    const team = emulator.store.createTeam({ displayName: 'Via User' });
    const [u] = seedUsers(1, 'joiner');
    const after = await scim.users.patch(u?.id ?? '', addGroups([team.id]));
    expect(after?.groups?.map((g) => g.value)).toContain(team.id);
  });

  it('reads the discovery documents', async () => {
    const { scim } = client();
    await expect(scim.serviceProviderConfig()).resolves.toMatchObject({
      patch: { supported: true },
    });
    const types = await scim.resourceTypes();
    expect(types.map((t) => t.endpoint).sort()).toEqual(['/Groups', '/Users']);
    const schemas = await scim.schemas();
    expect(schemas.map((s) => s.id)).toContain('urn:ietf:params:scim:schemas:core:2.0:User');
  });
});

describe('scim client against the emulator: errors', () => {
  it('maps a bad token to UPSTREAM_UNAUTHORIZED (401)', async () => {
    const { scim } = client({ token: 'not-the-token' });
    const error = await scim.users.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimUnauthorizedError);
    expect(error).toMatchObject({ status: 401, code: 'UPSTREAM_UNAUTHORIZED' });
  });

  it('maps an unknown id to SCIM_NOT_FOUND (404)', async () => {
    const { scim } = client();
    await expect(scim.users.get('999999999999999')).rejects.toBeInstanceOf(ScimNotFoundError);
    await expect(
      scim.groups.patch('AAAAAAAAAAAAAAAAAAAAAA', renameGroup('x')),
    ).rejects.toMatchObject({ status: 404, code: 'SCIM_NOT_FOUND' });
  });

  it('maps a taken e-mail to SCIM_CONFLICT (409)', async () => {
    const { scim } = client();
    await scim.users.create({ userName: 'taken@example.com' });
    const error = await scim.users
      .create({ userName: 'TAKEN@example.com' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimConflictError);
    expect(error).toMatchObject({ status: 409, scimType: 'uniqueness' });
  });

  it('maps exhausted seats to SCIM_SEAT_LIMIT (428)', async () => {
    const small = await createEmulator({ seats: 1 });
    const scim = testScimClient(small, { retry: false });
    try {
      await scim.users.create({ userName: 'first@example.com' });
      const error = await scim.users
        .create({ userName: 'second@example.com' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScimSeatLimitError);
      expect(error).toMatchObject({ status: 428, code: 'SCIM_SEAT_LIMIT' });
    } finally {
      await scim.close();
      await small.close();
    }
  });

  it('maps an or filter on the keeper profile to SCIM_INVALID_REQUEST invalidFilter (400)', async () => {
    const { scim } = client();
    const error = await scim.users
      .list({ filter: orEq('Users', 'id', ['1', '2']) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimInvalidRequestError);
    expect(error).toMatchObject({ status: 400, scimType: 'invalidFilter' });
  });

  it('maps a 429 whose Retry-After exceeds maxDelayMs to RATE_LIMITED, without retrying', async () => {
    const { scim, calls } = client();
    emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 429, retryAfterSeconds: 30 });
    const error = await scim.users.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimRateLimitedError);
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
    expect(emulator.log.entries).toHaveLength(1);
    expect(calls).toHaveLength(1);
  });

  it('waits out a 429 whose Retry-After fits, then succeeds', async () => {
    const delays: number[] = [];
    const { scim } = client({
      retry: { maxDelayMs: 2000, sleep: async (ms) => void delays.push(ms) },
    });
    emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 429, retryAfterSeconds: 1 });
    await expect(scim.users.list()).resolves.toMatchObject({ totalResults: expect.any(Number) });
    expect(delays).toEqual([1000]);
    expect(emulator.log.entries.map((e) => e.status)).toEqual([429, 200]);
  });

  it.each([500, 503] as const)(
    'maps a persistent %i to UPSTREAM_UNAVAILABLE after retries',
    async (status) => {
      const { scim, calls } = client();
      emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: status, times: 3 });
      const error = await scim.users.list().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ScimUnavailableError);
      expect(error).toMatchObject({ status, requestSent: true });
      expect(emulator.log.entries.map((e) => e.status)).toEqual([status, status, status]);
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
    },
  );

  it('maps a hang to UPSTREAM_UNAVAILABLE with TIMEOUT at the call deadline', async () => {
    const { scim } = client({ requestTimeoutMs: 300 });
    emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 'hang' });
    const error = await scim.users.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimUnavailableError);
    expect(error).toMatchObject({ status: 0, transportCode: 'TIMEOUT', requestSent: true });
    // The deadline covers the whole call: no retry after it.
    expect(emulator.log.entries).toHaveLength(1);
  });
});

describe('scim client against the emulator: retries as the upstream sees them', () => {
  it('retries a GET after one 503: two log entries', async () => {
    const { scim } = client();
    emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 503 });
    await expect(scim.users.list()).resolves.toBeDefined();
    expect(emulator.log.entries.map((e) => `${e.method} ${e.status}`)).toEqual([
      'GET 503',
      'GET 200',
    ]);
  });

  it('does not retry a POST after a 503: one log entry', async () => {
    const { scim } = client();
    emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 503 });
    await expect(scim.users.create({ userName: 'once@example.com' })).rejects.toMatchObject({
      code: 'UPSTREAM_UNAVAILABLE',
      status: 503,
    });
    expect(emulator.log.entries.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 503']);
    expect(emulator.store.findUserByUserName('once@example.com')).toBeUndefined();
  });

  it('retries a GET after a reset before apply', async () => {
    const { scim, calls } = client();
    emulator.faults.enqueue({ method: 'GET', path: /^\/Groups/, fault: 'reset-before-apply' });
    await expect(scim.groups.list()).resolves.toBeDefined();
    expect(emulator.log.entries.map((e) => e.outcome)).toEqual(['reset', 'answered']);
    expect(calls[0]).toMatchObject({ status: 0, errorCode: 'UPSTREAM_UNAVAILABLE' });
  });

  it('does not retry a POST reset after apply, and says it may have been applied', async () => {
    const { scim } = client();
    emulator.faults.enqueue({ method: 'POST', path: '/Users', fault: 'reset-after-apply' });
    const error = await scim.users
      .create({ userName: 'ghost@example.com' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScimUnavailableError);
    expect(error).toMatchObject({ status: 0, requestSent: true });
    expect(emulator.log.entries).toHaveLength(1);
    // It was applied: exactly the case a blind retry would turn into a 409.
    expect(emulator.store.findUserByUserName('ghost@example.com')).toBeDefined();
  });

  it('does not retry a POST reset before apply either', async () => {
    const { scim } = client();
    emulator.faults.enqueue({ method: 'POST', path: '/Groups', fault: 'reset-before-apply' });
    await expect(scim.groups.create({ displayName: 'Never' })).rejects.toBeInstanceOf(
      ScimUnavailableError,
    );
    expect(emulator.log.entries).toHaveLength(1);
  });

  it('retries an idempotent PATCH after a reset after apply', async () => {
    const { scim } = client();
    const [u] = seedUsers(1, 'patchy');
    const id = u?.id ?? '';
    emulator.faults.enqueue({ method: 'PATCH', path: `/Users/${id}`, fault: 'reset-after-apply' });
    const after = await scim.users.patch(id, setActive(false), { idempotent: true });
    expect(after?.active).toBe(false);
    expect(emulator.log.entries.map((e) => e.outcome)).toEqual(['reset', 'answered']);
  });
});

describe('scim client against the emulator: cancellation', () => {
  it('carries the caller’s abort to the upstream socket and rejects with the abort reason', async () => {
    // Our own Pool, so that its socket count is visible.
    const pool = new Pool(emulator.url, { connections: 1, keepAliveTimeout: 10_000 });
    const { scim, calls } = client({ dispatcher: pool });
    try {
      // Warm the connection so the pool holds exactly one socket.
      await scim.users.list({ count: 1 });
      expect(pool.stats.connected).toBe(1);
      emulator.faults.enqueue({ method: 'GET', path: /^\/Users/, fault: 'hang' });
      const controller = new AbortController();
      const pending = scim.users.list({}, { signal: controller.signal });
      await waitFor(() => emulator.log.entries.some((e) => e.outcome === 'hang'));
      controller.abort();
      const error = await pending.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      expect(calls.at(-1)).toMatchObject({ status: 0, errorCode: 'ABORTED' });
      // undici destroyed the in-flight socket: the abort reached the upstream connection.
      await waitFor(() => pool.stats.connected === 0);
      expect(pool.stats.connected).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('scim client against the emulator: paging at the boundaries', () => {
  const pageSize = 5;
  let paging: Emulator;
  let scim: ScimClient;

  beforeAll(async () => {
    paging = await createEmulator({ seed: 'empty' });
    scim = testScimClient(paging);
  });
  afterAll(async () => {
    await scim.close();
    await paging.close();
  });

  it.each([
    [2 * pageSize, 2],
    [2 * pageSize + 1, 3],
    [3 * pageSize, 3],
    [3 * pageSize + 1, 4],
  ])('collects all %i users in %i pages', async (total, pages) => {
    const have = paging.store.listUsers().length;
    for (let i = have; i < total; i++) {
      paging.store.createUser({ userName: `p${i + 1}@example.com` });
    }
    paging.log.clear();
    const result = await scim.users.listAll({ pageSize });
    expect(result).toMatchObject({ totalResults: total, complete: true, stop: 'complete', pages });
    expect(new Set(result.Resources.map((u) => u.id)).size).toBe(total);
    expect(paging.log.entries.map((e) => e.path)).toEqual(
      Array.from(
        { length: pages },
        (_, i) => `/Users?startIndex=${i * pageSize + 1}&count=${pageSize}`,
      ),
    );
  });

  it('keeps the filter on every page', async () => {
    paging.log.clear();
    const result = await scim.users.listAll({
      filter: userEq('userName', 'p1@example.com'),
      pageSize,
    });
    expect(result.Resources.map((u) => u.userName)).toEqual(['p1@example.com']);
    expect(paging.log.entries).toHaveLength(1);
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
