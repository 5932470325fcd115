import { beforeEach, describe, expect, it } from 'vitest';
import type { GroupRecord, UserRecord } from '../../src/emulator/index.ts';
import { patchOp, send, useEmulator } from './helpers.ts';

// docs/keeper-scim.md §5: the PATCH dialects Keeper receives, each checked by reading the resource back.

describe('PATCH dialects', () => {
  const emulator = useEmulator();
  let user: UserRecord;
  let other: UserRecord;
  let team: GroupRecord;
  let team2: GroupRecord;
  let n = 0;

  beforeEach(() => {
    const store = emulator().store;
    n += 1;
    user = store.createUser({
      userName: `jane${n}@example.com`,
      displayName: 'Jane Doe',
      name: { givenName: 'Jane', familyName: 'Doe' },
      externalId: `ext-${n}`,
    });
    other = store.createUser({ userName: `john${n}@example.com` });
    team = store.createTeam({ displayName: `Team ${n}`, externalId: `t-${n}` });
    team2 = store.createTeam({ displayName: `Team ${n}b` });
  });

  const readUser = async (id: string) => (await send(emulator(), 'GET', `/Users/${id}`)).body;
  const readGroup = async (id: string) => (await send(emulator(), 'GET', `/Groups/${id}`)).body;
  const ids = (items: { value: string }[]) => items.map((i) => i.value);

  describe('Entra ID, legacy gallery-app behaviour (§5 C)', () => {
    it('takes capitalised ops, string booleans, value-filter e-mail paths and extension paths', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        headers: { 'content-type': 'application/json' },
        body: patchOp(
          { op: 'Replace', path: 'active', value: 'False' },
          { op: 'Replace', path: 'name.familyName', value: 'Smith' },
          { op: 'Add', path: 'displayName', value: 'Jane Smith' },
          { op: 'Replace', path: 'emails[type eq "work"].value', value: `jane${n}@example.com` },
          {
            op: 'Add',
            path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager',
            value: '123',
          },
          {
            op: 'Replace',
            path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department',
            value: 'R&D',
          },
        ),
      });
      expect(reply.status).toBe(200);
      const read = await readUser(user.id);
      expect(read).toMatchObject({
        active: false,
        displayName: 'Jane Smith',
        name: { givenName: 'Jane', familyName: 'Smith' },
        emails: [{ primary: true, value: `jane${n}@example.com`, type: 'work' }],
      });
      expect(JSON.stringify(read)).not.toContain('enterprise');
    });

    it('renames userName and unlocks with "True"', async () => {
      emulator().store.setActive(user.id, false);
      await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp(
          { op: 'Replace', path: 'userName', value: `jane.renamed${n}@example.com` },
          { op: 'Replace', path: 'active', value: 'True' },
        ),
      });
      const read = await readUser(user.id);
      expect(read.userName).toBe(`jane.renamed${n}@example.com`);
      expect(read.emails[0].value).toBe(`jane.renamed${n}@example.com`);
      expect(read.active).toBe(true);
    });

    it('adds and removes members with value arrays carrying "$ref": null', async () => {
      const add = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({
          op: 'Add',
          path: 'members',
          value: [
            { $ref: null, value: user.id },
            { $ref: null, value: other.id },
          ],
        }),
      });
      expect(add.status).toBe(200);
      expect(ids((await readGroup(team.id)).members)).toEqual([user.id, other.id]);
      await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'Remove', path: 'members', value: [{ $ref: null, value: user.id }] }),
      });
      expect(ids((await readGroup(team.id)).members)).toEqual([other.id]);
      expect((await readUser(user.id)).groups).toEqual([]);
    });

    it('renames a group with a path', async () => {
      await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'Replace', path: 'displayName', value: 'Renamed Team' }),
      });
      expect((await readGroup(team.id)).displayName).toBe('Renamed Team');
    });
  });

  describe('Entra ID with ?aadOptscim062020 (§5 D)', () => {
    it('takes lowercase ops and real booleans', async () => {
      await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'replace', path: 'active', value: false }),
      });
      expect((await readUser(user.id)).active).toBe(false);
    });

    it('removes a member through a value-filter path', async () => {
      emulator().store.addMember(team.id, user.id);
      emulator().store.addMember(team.id, other.id);
      const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'remove', path: `members[value eq "${user.id}"]` }),
      });
      expect(reply.status).toBe(200);
      expect(ids((await readGroup(team.id)).members)).toEqual([other.id]);
      expect(ids((await readUser(other.id)).groups)).toEqual([team.id]);
    });
  });

  describe('Okta (§5 E)', () => {
    it('deactivates and reactivates with a no-path replace', async () => {
      await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'replace', value: { active: false } }),
      });
      expect((await readUser(user.id)).active).toBe(false);
      await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'replace', value: { active: true } }),
      });
      expect((await readUser(user.id)).active).toBe(true);
    });

    it('renames a pushed group with its own id inside the value', async () => {
      const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'replace', value: { id: team.id, displayName: 'Okta Name' } }),
      });
      expect(reply.status).toBe(200);
      expect((await readGroup(team.id)).displayName).toBe('Okta Name');
    });

    it('refuses a different id inside the value with 400 mutability', async () => {
      const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'replace', value: { id: team2.id, displayName: 'Hijack' } }),
      });
      expect(reply.status).toBe(400);
      expect(reply.body.scimType).toBe('mutability');
      expect((await readGroup(team.id)).displayName).toBe(team.displayName);
    });

    it('adds members with display and removes them by filter', async () => {
      await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({
          op: 'add',
          path: 'members',
          value: [{ value: user.id, display: user.userName }],
        }),
      });
      expect((await readUser(user.id)).groups).toEqual([
        { value: team.id, display: team.displayName },
      ]);
      await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'remove', path: `members[value eq "${user.id}"]` }),
      });
      expect((await readGroup(team.id)).members).toEqual([]);
    });
  });

  describe("Keeper's own clients, Commander and the Go client (§5 B)", () => {
    it('applies a no-path replace with dotted keys', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        headers: { 'content-type': 'application/json' },
        body: patchOp({
          op: 'replace',
          value: {
            externalId: 'idp-42',
            displayName: 'Janet Dough',
            'name.familyName': 'Dough',
            'name.givenName': 'Janet',
            active: false,
          },
        }),
      });
      expect(reply.status).toBe(200);
      expect(await readUser(user.id)).toMatchObject({
        externalId: 'idp-42',
        displayName: 'Janet Dough',
        name: { givenName: 'Janet', familyName: 'Dough' },
        active: false,
      });
    });

    it('renames a group and changes its externalId without a path', async () => {
      await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({ op: 'replace', value: { externalId: 'new-ext', displayName: 'Synced' } }),
      });
      expect(await readGroup(team.id)).toMatchObject({
        externalId: 'new-ext',
        displayName: 'Synced',
      });
    });

    it('adds one team and removes another in one request via User.groups', async () => {
      emulator().store.addMember(team2.id, user.id);
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        // The Go client sends no Content-Type on some requests (docs/keeper-scim.md §1).
        raw: JSON.stringify(
          patchOp(
            { op: 'add', path: 'groups', value: [{ value: team.id }] },
            { op: 'remove', path: 'groups', value: [{ value: team2.id }] },
          ),
        ),
        headers: {},
      });
      expect(reply.status).toBe(200);
      expect(ids((await readUser(user.id)).groups)).toEqual([team.id]);
      expect(ids((await readGroup(team.id)).members)).toEqual([user.id]);
      expect((await readGroup(team2.id)).members).toEqual([]);
    });

    it('takes URN-prefixed keys and any-case attribute names', async () => {
      await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp(
          {
            op: 'REPLACE',
            value: {
              'urn:ietf:params:scim:schemas:core:2.0:User:displayName': 'Urn Name',
              'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'X' },
            },
          },
          { op: 'replace', path: 'NAME.GIVENNAME', value: 'Upper' },
        ),
      });
      const read = await readUser(user.id);
      expect(read.displayName).toBe('Urn Name');
      expect(read.name.givenName).toBe('Upper');
    });
  });

  describe('values Keeper refuses', () => {
    it('answers 400 invalidValue for an active value that is not a boolean', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'replace', path: 'active', value: 'yes' }),
      });
      expect(reply.status).toBe(400);
      expect(reply.body.scimType).toBe('invalidValue');
      expect((await readUser(user.id)).active).toBe(true);
    });

    it('answers 400 noTarget for remove without a path', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'remove', value: { displayName: 'x' } }),
      });
      expect(reply.status).toBe(400);
      expect(reply.body.scimType).toBe('noTarget');
    });

    it('answers 400 invalidPath for a malformed member filter, and changes nothing', async () => {
      emulator().store.addMember(team.id, user.id);
      const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp(
          { op: 'replace', path: 'displayName', value: 'Not applied' },
          { op: 'remove', path: 'members[value eq ]' },
        ),
      });
      expect(reply.status).toBe(400);
      expect(reply.body.scimType).toBe('invalidPath');
      expect(await readGroup(team.id)).toMatchObject({
        displayName: team.displayName,
        members: [{ value: user.id }],
      });
    });

    it('treats a derived member sub-attribute path as a no-op', async () => {
      emulator().store.addMember(team.id, user.id);
      const reply = await send(emulator(), 'PATCH', `/Groups/${team.id}`, {
        body: patchOp({
          op: 'replace',
          path: `members[value eq "${user.id}"].display`,
          value: 'Someone else',
        }),
      });
      expect(reply.status).toBe(200);
      expect(reply.body.members).toEqual([{ value: user.id, display: user.userName }]);
    });

    it('answers 404 for a team that is not in the node', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'add', path: 'groups', value: [{ value: 'AAAAAAAAAAAAAAAAAAAAAA' }] }),
      });
      expect(reply.status).toBe(404);
      expect(reply.body.detail).toContain('AAAAAAAAAAAAAAAAAAAAAA');
    });

    it('answers 409 when the new userName belongs to someone else', async () => {
      const reply = await send(emulator(), 'PATCH', `/Users/${user.id}`, {
        body: patchOp({ op: 'replace', path: 'userName', value: other.userName.toUpperCase() }),
      });
      expect(reply.status).toBe(409);
      expect(reply.body.scimType).toBe('uniqueness');
    });
  });
});
