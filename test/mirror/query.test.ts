import { describe, expect, it } from 'vitest';
import {
  counts,
  MirrorCursorError,
  type Page,
  queryGroups,
  queryMembers,
  queryUsers,
} from '../../src/directory/mirror/query.ts';
import { Snapshot } from '../../src/directory/mirror/snapshot.ts';
import type { ScimGroup, ScimUser } from '../../src/scim/schemas.ts';
import { startMirrorFixture } from './fixture.ts';

// The questions the mirror answers without the upstream: filters, orders, keyset cursors bound
// to their list and order, members, counts. Pure functions over a snapshot.

const user = (
  id: string,
  userName: string,
  extra: Partial<Pick<ScimUser, 'displayName' | 'externalId' | 'active' | 'name'>> = {},
  groups: string[] = [],
): ScimUser => ({
  id,
  userName,
  emails: [{ value: userName, primary: true, type: 'work' }],
  active: true,
  displayName: undefined,
  externalId: undefined,
  name: undefined,
  groups: groups.map((value) => ({ value, display: undefined, type: undefined, $ref: undefined })),
  ...extra,
});
const group = (id: string, displayName: string): ScimGroup => ({
  id,
  displayName,
  externalId: undefined,
  members: undefined,
});

function sample(): Snapshot {
  return Snapshot.fromScim(
    [
      user(
        '1',
        'zoe@acme.example',
        {
          displayName: 'Zoë Adams',
          name: { givenName: 'Zoë', familyName: 'Adams', formatted: undefined },
          externalId: 'e1',
        },
        ['T1'],
      ),
      user(
        '2',
        'adam@acme.example',
        {
          displayName: 'Adam Young',
          name: { givenName: 'Adam', familyName: 'Young', formatted: undefined },
        },
        ['T1', 'R1'],
      ),
      user(
        '3',
        'mia@acme.example',
        {
          active: false,
          name: { givenName: 'Mia', familyName: 'Adams', formatted: undefined },
          externalId: 'e3',
        },
        ['T2'],
      ),
      user('4', 'BOB@acme.example', { displayName: 'bob builder' }, ['R1']),
      user('5', 'eve@other.example', { active: false, displayName: 'Eve' }, ['T1']),
    ],
    [
      group('T1', 'Engineering'),
      group('T2', 'design'),
      group('R1', 'ROLE_Admins'),
      group('R2', 'ROLE_Auditors'),
    ],
    'ROLE_',
    new Date(0),
    0,
  );
}

const ids = <T extends { id: string }>(page: Page<T>) => page.edges.map((e) => e.node.id);

describe('directory mirror: queries', () => {
  it('filters users by active, search, team, role and externalId presence', () => {
    const s = sample();
    expect(ids(queryUsers(s, { filter: { active: false } }))).toEqual(['5', '3']);
    // Case-insensitive, over userName, displayName, given and family name, and e-mail.
    expect(ids(queryUsers(s, { filter: { search: 'ADAMS' } }))).toEqual(['3', '1']);
    expect(ids(queryUsers(s, { filter: { search: 'bob' } }))).toEqual(['4']);
    expect(ids(queryUsers(s, { filter: { search: 'other.EXAMPLE' } }))).toEqual(['5']);
    expect(ids(queryUsers(s, { filter: { teamId: 'T1' } }))).toEqual(['2', '5', '1']);
    expect(ids(queryUsers(s, { filter: { teamId: 'T1', active: true } }))).toEqual(['2', '1']);
    expect(ids(queryUsers(s, { filter: { roleId: 'R1' } }))).toEqual(['2', '4']);
    // A role id is not a team id.
    expect(ids(queryUsers(s, { filter: { teamId: 'R1' } }))).toEqual([]);
    expect(ids(queryUsers(s, { filter: { externalIdPresent: true } }))).toEqual(['3', '1']);
    expect(ids(queryUsers(s, { filter: { externalIdPresent: false } }))).toEqual(['2', '4', '5']);
    expect(queryUsers(s, { filter: { active: true }, first: 1 }).totalCount()).toBe(3);
  });

  it('orders by userName, displayName or family name, either way, ties broken by id', () => {
    const s = sample();
    const by = (field: 'USER_NAME' | 'DISPLAY_NAME' | 'FAMILY_NAME', direction: 'ASC' | 'DESC') =>
      ids(queryUsers(s, { orderBy: { field, direction } }));
    expect(by('USER_NAME', 'ASC')).toEqual(['2', '4', '5', '3', '1']);
    expect(by('USER_NAME', 'DESC')).toEqual(['1', '3', '5', '4', '2']);
    // No displayName: the userName stands in (as Keeper shows it).
    expect(by('DISPLAY_NAME', 'ASC')).toEqual(['2', '4', '5', '3', '1']);
    // No family name sorts first; the two Adams by id.
    expect(by('FAMILY_NAME', 'ASC')).toEqual(['4', '5', '1', '3', '2']);
    expect(by('FAMILY_NAME', 'DESC')).toEqual(['2', '3', '1', '5', '4']);
  });

  it('pages forward and backward with keyset cursors', () => {
    const s = sample();
    const p1 = queryUsers(s, { first: 2 });
    expect(ids(p1)).toEqual(['2', '4']);
    expect(p1.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const p2 = queryUsers(s, { first: 2, after: p1.pageInfo.endCursor! });
    expect(ids(p2)).toEqual(['5', '3']);
    expect(p2.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    const p3 = queryUsers(s, { first: 2, after: p2.pageInfo.endCursor! });
    expect(ids(p3)).toEqual(['1']);
    expect(p3.pageInfo.hasNextPage).toBe(false);
    const back = queryUsers(s, { last: 2, before: p3.pageInfo.startCursor! });
    expect(ids(back)).toEqual(['5', '3']);
    expect(back.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: true });
    expect(ids(queryUsers(s, { last: 2 }))).toEqual(['3', '1']);
    const desc = queryUsers(s, { first: 2, orderBy: { field: 'USER_NAME', direction: 'DESC' } });
    expect(
      ids(
        queryUsers(s, {
          first: 5,
          after: desc.pageInfo.endCursor!,
          orderBy: { field: 'USER_NAME', direction: 'DESC' },
        }),
      ),
    ).toEqual(['5', '4', '2']);
  });

  it('refuses a cursor from another list, filter or order with a typed error naming the argument', () => {
    const s = sample();
    const cursor = queryUsers(s, { first: 1 }).pageInfo.endCursor!;
    const refused = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return error;
      }
      throw new Error('not refused');
    };
    const otherOrder = refused(() =>
      queryUsers(s, { after: cursor, orderBy: { field: 'USER_NAME', direction: 'DESC' } }),
    );
    expect(otherOrder).toBeInstanceOf(MirrorCursorError);
    expect(otherOrder).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'after' });
    expect(refused(() => queryUsers(s, { after: cursor, filter: { active: true } }))).toMatchObject(
      {
        argument: 'after',
        message: expect.stringMatching(/another list/),
      },
    );
    expect(refused(() => queryMembers(s, 'T1', { before: cursor }))).toMatchObject({
      argument: 'before',
    });
    expect(refused(() => queryGroups(s, 'Team', { after: cursor }))).toBeInstanceOf(
      MirrorCursorError,
    );
    expect(refused(() => queryUsers(s, { after: 'not-a-cursor' }))).toBeInstanceOf(
      MirrorCursorError,
    );
  });

  it('lists teams and roles by name, and members filtered by active', () => {
    const s = sample();
    expect(queryGroups(s, 'Team', {}).edges.map((e) => e.node.name)).toEqual([
      'design',
      'Engineering',
    ]);
    expect(
      queryGroups(s, 'Role', { orderBy: { direction: 'DESC' } }).edges.map((e) => e.node.name),
    ).toEqual(['Auditors', 'Admins']);
    expect(queryGroups(s, 'Role', { nameContains: 'AUD' }).edges.map((e) => e.node.id)).toEqual([
      'R2',
    ]);
    expect(ids(queryMembers(s, 'T1', {})!)).toEqual(['2', '5', '1']);
    expect(ids(queryMembers(s, 'T1', { filter: { active: false } })!)).toEqual(['5']);
    expect(queryMembers(s, 'T1', { filter: { active: true } })!.totalCount()).toBe(2);
    expect(queryMembers(s, 'T1', { first: 1 })!.totalCount()).toBe(3);
    expect(queryMembers(s, 'nope', {})).toBeUndefined();
    expect(counts(s)).toEqual({ users: 5, activeUsers: 3, lockedUsers: 2, teams: 2, roles: 2 });
  });

  it('keyset paging under concurrent creates and locks returns every user exactly once', async () => {
    const f = await startMirrorFixture();
    const mirror = f.mirror();
    const snapshot = await mirror.ready();
    const store = f.emulator.store;
    const everyone = new Set(snapshot.users.keys());
    const orderBy = { field: 'DISPLAY_NAME', direction: 'ASC' } as const;
    const seen: string[] = [];
    let after: string | undefined;
    for (let round = 0; ; round++) {
      const page = queryUsers(snapshot, { first: 37, after, orderBy });
      seen.push(...ids(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
      // Between pages, behind the facade's back: users created at both ends of the order and in
      // the middle, users locked ahead of the cursor and behind it; then a refresh.
      for (const name of ['Aaron', 'Mmm', 'Zzz']) {
        store.createUser({
          userName: `${name.toLowerCase()}${round}@acme.example`,
          displayName: `${name} ${round}`,
        });
      }
      const active = store.listUsers().filter((u) => u.active);
      for (const u of [active[round], active.at(-1 - round)]) if (u) store.setActive(u.id, false);
      expect(await mirror.refresh()).toMatchObject({ ok: true });
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of everyone) expect(seen).toContain(id);
    // Created ones after the cursor show up; none before it.
    expect(seen.length).toBeGreaterThan(everyone.size);
  });
});
