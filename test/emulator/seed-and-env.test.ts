import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { emulatorOptionsFromEnv } from '../../src/emulator/main.ts';
import { send } from './helpers.ts';

describe('demo seed', () => {
  let a: Emulator;
  let b: Emulator;
  beforeAll(async () => {
    [a, b] = await Promise.all([
      createEmulator({ seed: 'demo' }),
      createEmulator({ seed: 'demo' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('is one realistic node: 500+ users on one domain, ~5% locked, most with externalId', () => {
    const users = a.store.listUsers();
    expect(users.length).toBeGreaterThanOrEqual(500);
    expect(users.every((u) => /^[a-z]+\.[a-z]+\d*@acme\.example$/.test(u.userName))).toBe(true);
    expect(new Set(users.map((u) => u.userName.toLowerCase())).size).toBe(users.length);
    const locked = users.filter((u) => !u.active).length / users.length;
    expect(locked).toBeGreaterThan(0.02);
    expect(locked).toBeLessThan(0.1);
    expect(users.filter((u) => u.externalId).length / users.length).toBeGreaterThan(0.8);
    expect(new Set(users.map((u) => u.name?.familyName)).size).toBeGreaterThan(30);
    expect(users.every((u) => /^\d{15,16}$/.test(u.id))).toBe(true);
  });

  it('has 25+ teams of 0–200 members, some outside SCIM, and 5+ roles with members', () => {
    const store = a.store;
    const teams = store.listTeams();
    expect(teams.length).toBeGreaterThanOrEqual(25);
    const sizes = teams.map((t) => store.membersOf(t.id).length);
    expect(Math.min(...sizes)).toBe(0);
    expect(Math.max(...sizes)).toBe(200);
    expect(new Set(sizes).size).toBeGreaterThan(15);
    expect(teams.filter((t) => t.externalId === undefined).length).toBeGreaterThanOrEqual(2);
    expect(teams.every((t) => /^[A-Za-z0-9][A-Za-z0-9_-]{21}$/.test(t.id))).toBe(true);
    const roles = store.listRoles();
    expect(roles.length).toBeGreaterThanOrEqual(5);
    expect(roles.every((r) => r.displayName.startsWith('ROLE_'))).toBe(true);
    expect(roles.every((r) => store.membersOf(r.id).length > 0)).toBe(true);
  });

  it('is identical on every run', async () => {
    const snapshot = (e: Emulator) => ({
      users: e.store.listUsers(),
      groups: e.store.listGroups().map((g) => ({ ...g, members: e.store.membersOf(g.id) })),
    });
    expect(snapshot(b)).toEqual(snapshot(a));
    const pageA = await send(a, 'GET', '/Groups?startIndex=3&count=4');
    const pageB = await send(b, 'GET', '/Groups?startIndex=3&count=4');
    expect(pageB.body).toEqual(pageA.body);
  });

  it('serves the seed over HTTP with roles listed under /Groups', async () => {
    const users = await send(a, 'GET', '/Users?startIndex=1&count=2');
    expect(users.body).toMatchObject({ totalResults: a.store.userCount, itemsPerPage: 2 });
    const role = a.store.listRoles()[0]!;
    const groups = await send(a, 'GET', `/Groups?filter=displayName eq "${role.displayName}"`);
    expect(groups.body.Resources[0]).toMatchObject({ id: role.id, displayName: role.displayName });
    expect(groups.body.Resources[0].members).toHaveLength(a.store.membersOf(role.id).length);
  });
});

describe('emulatorOptionsFromEnv', () => {
  it('defaults to the demo seed on 127.0.0.1:8787', () => {
    expect(emulatorOptionsFromEnv({})).toEqual({
      ok: true,
      options: { host: '127.0.0.1', port: 8787, seed: 'demo' },
    });
  });

  it('reads every variable, treating empty values as unset', () => {
    const result = emulatorOptionsFromEnv({
      EMULATOR_PORT: '9000',
      EMULATOR_HOST: '0.0.0.0',
      EMULATOR_NODE_ID: '1743756723210',
      EMULATOR_TOKEN: 'tok',
      EMULATOR_SEATS: '25',
      EMULATOR_PROFILE: 'RFC',
      EMULATOR_SEED: 'empty',
      EMULATOR_ROLE_PREFIX: 'KR_',
      EMULATOR_GROUP_MEMBERS: 'omit',
      EMULATOR_LATENCY_MS: '',
    });
    expect(result).toEqual({
      ok: true,
      options: {
        host: '0.0.0.0',
        port: 9000,
        nodeId: '1743756723210',
        token: 'tok',
        seats: 25,
        profile: 'rfc',
        seed: 'empty',
        rolePrefix: 'KR_',
        groupMembers: 'omit',
      },
    });
  });

  it('reports every problem at once, naming the variable and the bad value', () => {
    const result = emulatorOptionsFromEnv({
      EMULATOR_PORT: '70000',
      EMULATOR_NODE_ID: 'my-node',
      EMULATOR_SEATS: '-1',
      EMULATOR_PROFILE: 'strict',
      EMULATOR_SEED: 'big',
      EMULATOR_GROUP_MEMBERS: 'yes',
      EMULATOR_LATENCY_MS: 'fast',
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(7);
    for (const [name, value] of [
      ['EMULATOR_PORT', '70000'],
      ['EMULATOR_NODE_ID', 'my-node'],
      ['EMULATOR_SEATS', '-1'],
      ['EMULATOR_PROFILE', 'strict'],
      ['EMULATOR_SEED', 'big'],
      ['EMULATOR_GROUP_MEMBERS', 'yes'],
      ['EMULATOR_LATENCY_MS', 'fast'],
    ]) {
      expect(result.problems.some((p) => p.includes(name!) && p.includes(`"${value}"`))).toBe(true);
    }
  });

  it('produces options createEmulator starts with', async () => {
    const result = emulatorOptionsFromEnv({ EMULATOR_PORT: '0', EMULATOR_SEED: 'empty' });
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const emulator = await createEmulator(result.options);
    try {
      expect((await send(emulator, 'GET', '/Users')).body.totalResults).toBe(0);
    } finally {
      await emulator.close();
    }
  });
});
