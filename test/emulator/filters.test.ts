import { beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.ts';
import { send, useEmulator } from './helpers.ts';

function seedPeople(emulator: Emulator) {
  const store = emulator.store;
  const jane = store.createUser({
    userName: 'Jane.Doe@Example.com',
    displayName: 'Jane Doe',
    externalId: 'ABC-1',
    title: 'Engineer',
  });
  const john = store.createUser({ userName: 'john.roe@example.com', externalId: 'abc-1' });
  const ann = store.createUser({ userName: 'ann@other.example', displayName: 'Ann Lee' });
  store.setActive(ann.id, false);
  const eng = store.createTeam({ displayName: 'Engineering', externalId: 'G-1' }, [jane.id]);
  const ops = store.createTeam({ displayName: 'Ops' }, [john.id, ann.id]);
  const role = store.createRole({ displayName: 'ROLE_Admins' }, [jane.id]);
  return { jane, john, ann, eng, ops, role };
}

const userNames = (body: { Resources: { userName: string }[] }) =>
  body.Resources.map((u) => u.userName);
const groupNames = (body: { Resources: { displayName: string }[] }) =>
  body.Resources.map((g) => g.displayName);

describe('keeper filter profile (default)', () => {
  const emulator = useEmulator();
  let people: ReturnType<typeof seedPeople>;
  beforeAll(() => {
    people = seedPeople(emulator());
  });

  const get = (path: string) => send(emulator(), 'GET', path);

  it('answers eq on id, userName and externalId, userName without case', async () => {
    expect(userNames((await get(`/Users?filter=id eq "${people.john.id}"`)).body)).toEqual([
      'john.roe@example.com',
    ]);
    expect(
      userNames((await get('/Users?filter=userName%20eq%20%22jane.doe%40example.com%22')).body),
    ).toEqual(['Jane.Doe@Example.com']);
    // externalId is caseExact (RFC 7643 §3.1).
    expect(userNames((await get('/Users?filter=externalId+eq+%22abc-1%22')).body)).toEqual([
      'john.roe@example.com',
    ]);
    // Attribute names and operators are case-insensitive.
    expect((await get('/Users?filter=USERNAME EQ "ann@other.example"')).body.totalResults).toBe(1);
  });

  it('answers eq on id, displayName and externalId for groups', async () => {
    expect(groupNames((await get('/Groups?filter=displayName eq "engineering"')).body)).toEqual([
      'Engineering',
    ]);
    expect(groupNames((await get('/Groups?filter=externalId eq "G-1"')).body)).toEqual([
      'Engineering',
    ]);
    expect(groupNames((await get(`/Groups?filter=id eq "${people.role.id}"`)).body)).toEqual([
      'ROLE_Admins',
    ]);
    expect((await get('/Groups?filter=displayName eq "nobody"')).body).toMatchObject({
      totalResults: 0,
      itemsPerPage: 0,
      Resources: [],
    });
  });

  it.each([
    '/Users?filter=userName co "jane"',
    '/Users?filter=userName sw "j"',
    `/Users?filter=userName eq "x@y.z" or userName eq "a@b.c"`,
    '/Users?filter=displayName eq "Jane Doe"',
    '/Users?filter=active eq true',
    '/Users?filter=emails[type eq "work"]',
    '/Groups?filter=members[value eq "1"]',
    '/Groups?filter=userName eq "x"',
  ])('refuses %s with 400 invalidFilter', async (path) => {
    const reply = await get(path);
    expect(reply.status).toBe(400);
    expect(reply.body).toMatchObject({ status: '400', scimType: 'invalidFilter' });
  });

  it('refuses malformed filters with 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'userName eq "unterminated', '(id eq "1"', 'id xx "1"']) {
      const reply = await get(`/Users?filter=${encodeURIComponent(filter)}`);
      expect(reply.status, filter).toBe(400);
      expect(reply.body.scimType, filter).toBe('invalidFilter');
    }
  });
});

describe('rfc filter profile', () => {
  const emulator = useEmulator({ profile: 'rfc' });
  let people: ReturnType<typeof seedPeople>;
  beforeAll(() => {
    people = seedPeople(emulator());
  });

  const users = async (filter: string) => {
    const reply = await send(emulator(), 'GET', `/Users?filter=${encodeURIComponent(filter)}`);
    expect(reply.status, filter).toBe(200);
    return userNames(reply.body);
  };

  it('answers co, sw, ew without case on userName and displayName', async () => {
    expect(await users('userName co "DOE"')).toEqual(['Jane.Doe@Example.com']);
    expect(await users('userName sw "JOHN"')).toEqual(['john.roe@example.com']);
    expect(await users('userName ew "@EXAMPLE.COM"')).toEqual([
      'Jane.Doe@Example.com',
      'john.roe@example.com',
    ]);
    expect(await users('displayName co "lee"')).toEqual(['ann@other.example']);
  });

  it('compares id and externalId exactly', async () => {
    expect(await users('externalId eq "ABC-1"')).toEqual(['Jane.Doe@Example.com']);
    expect(await users('externalId sw "abc"')).toEqual(['john.roe@example.com']);
  });

  it('combines with and, or, not and grouping, not before and before or', async () => {
    expect(await users('userName sw "j" and not (externalId eq "abc-1")')).toEqual([
      'Jane.Doe@Example.com',
    ]);
    expect(await users('userName eq "ann@other.example" or userName sw "john"')).toEqual([
      'john.roe@example.com',
      'ann@other.example',
    ]);
    expect(await users('userName sw "ann" or userName sw "jane" and externalId eq "nope"')).toEqual(
      ['ann@other.example'],
    );
    expect(
      await users('(userName sw "ann" or userName sw "jane") and externalId eq "ABC-1"'),
    ).toEqual(['Jane.Doe@Example.com']);
  });

  it('answers pr, ne, booleans and value paths', async () => {
    expect(await users('title pr')).toEqual(['Jane.Doe@Example.com']);
    expect(await users('externalId ne "ABC-1"')).toEqual([
      'john.roe@example.com',
      'ann@other.example',
    ]);
    expect(await users('active eq false')).toEqual(['ann@other.example']);
    expect(await users('emails[type eq "work" and value co "other"]')).toEqual([
      'ann@other.example',
    ]);
    expect(await users(`groups[value eq "${people.role.id}"]`)).toEqual(['Jane.Doe@Example.com']);
    expect(
      await users('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "john.roe@example.com"'),
    ).toEqual(['john.roe@example.com']);
  });

  it('decodes escaped quotes and backslashes in string literals', async () => {
    emulator().store.createUser({ userName: 'quote@example.com', displayName: 'Say "hi" \\o/' });
    expect(await users('displayName eq "say \\"hi\\" \\\\o/"')).toEqual(['quote@example.com']);
  });

  it('filters groups by members', async () => {
    const reply = await send(
      emulator(),
      'GET',
      `/Groups?filter=${encodeURIComponent(`members[value eq "${people.ann.id}"]`)}`,
    );
    expect(groupNames(reply.body)).toEqual(['Ops']);
    const byDisplay = await send(
      emulator(),
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName sw "role_"')}`,
    );
    expect(groupNames(byDisplay.body)).toEqual(['ROLE_Admins']);
  });

  it('refuses ordering operators on booleans and malformed filters with 400 invalidFilter', async () => {
    for (const filter of ['active gt false', 'userName eq "a" and', 'userName eq bob']) {
      const reply = await send(emulator(), 'GET', `/Users?filter=${encodeURIComponent(filter)}`);
      expect(reply.status, filter).toBe(400);
      expect(reply.body.scimType, filter).toBe('invalidFilter');
    }
  });
});
