import { describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/emulator/index.ts';
import { patchOp, send, useEmulator } from './helpers.ts';

// The `rfc-strict` profile: a SCIM 2.0 server that follows RFC 7643/7644 where Keeper does not.
// Each behaviour is shown next to what the `keeper` profile does with the same request.

const SCHEMA_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SCHEMA_GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';

const user = (userName: string, extra: object = {}) => ({
  schemas: [SCHEMA_USER],
  userName,
  ...extra,
});
const group = (displayName: string, extra: object = {}) => ({
  schemas: [SCHEMA_GROUP],
  displayName,
  ...extra,
});

async function created(emulator: Emulator, path: string, body: object): Promise<string> {
  const reply = await send(emulator, 'POST', path, { body });
  expect(reply.status).toBe(201);
  return reply.body.id;
}

describe.each(['keeper', 'rfc-strict'] as const)('%s profile', (profile) => {
  const emulator = useEmulator({ profile });
  const strict = profile === 'rfc-strict';

  it('POST /Users applies `groups` on Keeper and ignores it (read-only) on rfc-strict', async () => {
    const teamId = await created(emulator(), '/Groups', group(`Onboarding ${profile}`));
    const reply = await send(emulator(), 'POST', '/Users', {
      body: user(`join.${profile}@example.com`, { groups: [{ value: teamId }] }),
    });
    expect(reply.status).toBe(201);
    expect(reply.body.groups).toEqual(
      strict ? [] : [{ value: teamId, display: expect.any(String) }],
    );
    expect(emulator().store.membersOf(teamId)).toEqual(strict ? [] : [reply.body.id]);
  });

  it('PUT /Users ignores `groups` on rfc-strict and PATCH of User.groups is refused', async () => {
    const teamId = await created(emulator(), '/Groups', group(`Put ${profile}`));
    const id = await created(emulator(), '/Users', user(`put.${profile}@example.com`));
    const put = await send(emulator(), 'PUT', `/Users/${id}`, {
      body: user(`put.${profile}@example.com`, { groups: [{ value: teamId }] }),
    });
    expect(put.status).toBe(200);
    expect(emulator().store.membersOf(teamId)).toEqual(strict ? [] : [id]);
    const patch = await send(emulator(), 'PATCH', `/Users/${id}`, {
      body: patchOp({ op: 'add', path: 'groups', value: [{ value: teamId }] }),
    });
    expect(patch.status).toBe(strict ? 400 : 200);
    if (strict) expect(patch.body).toMatchObject({ scimType: 'mutability' });
  });

  it('DELETE /Users locks on Keeper and deletes on rfc-strict', async () => {
    const teamId = await created(emulator(), '/Groups', group(`Leavers ${profile}`));
    const id = await created(emulator(), '/Users', user(`gone.${profile}@example.com`));
    await send(emulator(), 'PATCH', `/Groups/${teamId}`, {
      body: patchOp({ op: 'add', path: 'members', value: [{ value: id }] }),
    });
    expect((await send(emulator(), 'DELETE', `/Users/${id}`)).status).toBe(204);
    const after = await send(emulator(), 'GET', `/Users/${id}`);
    expect(after.status).toBe(strict ? 404 : 200);
    if (!strict) expect(after.body.active).toBe(false);
    expect(emulator().store.membersOf(teamId)).toEqual(strict ? [] : [id]);
    expect((await send(emulator(), 'DELETE', `/Users/${id}`)).status).toBe(strict ? 404 : 204);
  });

  it('compares userName and displayName with their case only on rfc-strict', async () => {
    await created(emulator(), '/Users', user(`Mixed.Case.${profile}@Example.com`));
    await created(emulator(), '/Groups', group(`Mixed Case ${profile}`));
    const byLower = await send(
      emulator(),
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "mixed.case.${profile}@example.com"`)}`,
    );
    expect(byLower.body.totalResults).toBe(strict ? 0 : 1);
    const byExact = await send(
      emulator(),
      'GET',
      `/Users?filter=${encodeURIComponent(`userName eq "Mixed.Case.${profile}@Example.com"`)}`,
    );
    expect(byExact.body.totalResults).toBe(1);
    const groupLower = await send(
      emulator(),
      'GET',
      `/Groups?filter=${encodeURIComponent(`displayName eq "mixed case ${profile}"`)}`,
    );
    expect(groupLower.body.totalResults).toBe(strict ? 0 : 1);
    // Uniqueness follows the same comparison: another case is another user on rfc-strict.
    const twin = await send(emulator(), 'POST', '/Users', {
      body: user(`MIXED.CASE.${profile}@example.com`),
    });
    expect(twin.status).toBe(strict ? 201 : 409);
  });

  it('allows two groups with one name on Keeper, answers 409 uniqueness on rfc-strict', async () => {
    await created(emulator(), '/Groups', group(`Twins ${profile}`));
    const second = await send(emulator(), 'POST', '/Groups', { body: group(`Twins ${profile}`) });
    expect(second.status).toBe(strict ? 409 : 201);
    if (strict) expect(second.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    const other = await created(emulator(), '/Groups', group(`Other ${profile}`));
    const rename = await send(emulator(), 'PATCH', `/Groups/${other}`, {
      body: patchOp({ op: 'replace', path: 'displayName', value: `Twins ${profile}` }),
    });
    expect(rename.status).toBe(strict ? 409 : 200);
  });

  it('refuses an unknown member with 404 on Keeper and 400 invalidValue on rfc-strict', async () => {
    const teamId = await created(emulator(), '/Groups', group(`Members ${profile}`));
    const patch = await send(emulator(), 'PATCH', `/Groups/${teamId}`, {
      body: patchOp({ op: 'add', path: 'members', value: [{ value: '999999999' }] }),
    });
    expect(patch.status).toBe(strict ? 400 : 404);
    if (strict) expect(patch.body).toMatchObject({ scimType: 'invalidValue' });
    const post = await send(emulator(), 'POST', '/Groups', {
      body: group(`With ghost ${profile}`, { members: [{ value: '999999999' }] }),
    });
    expect(post.status).toBe(strict ? 400 : 404);
  });

  it('requires `schemas` on POST, PUT and PATCH only on rfc-strict', async () => {
    const bare = await send(emulator(), 'POST', '/Users', {
      body: { userName: `bare.${profile}@example.com` },
    });
    expect(bare.status).toBe(strict ? 400 : 201);
    if (strict) expect(bare.body).toMatchObject({ scimType: 'invalidSyntax' });
    const bareGroup = await send(emulator(), 'POST', '/Groups', {
      body: { displayName: `Bare ${profile}` },
    });
    expect(bareGroup.status).toBe(strict ? 400 : 201);
    const id = await created(emulator(), '/Users', user(`schemas.${profile}@example.com`));
    const put = await send(emulator(), 'PUT', `/Users/${id}`, {
      body: { userName: `schemas.${profile}@example.com`, active: true },
    });
    expect(put.status).toBe(strict ? 400 : 200);
    const patch = await send(emulator(), 'PATCH', `/Users/${id}`, {
      body: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] },
    });
    expect(patch.status).toBe(strict ? 400 : 200);
  });

  it('takes string booleans only on Keeper, and answers PATCH with 204 on rfc-strict', async () => {
    const id = await created(emulator(), '/Users', user(`bool.${profile}@example.com`));
    const stringy = await send(emulator(), 'PATCH', `/Users/${id}`, {
      body: patchOp({ op: 'replace', path: 'active', value: 'False' }),
    });
    expect(stringy.status).toBe(strict ? 400 : 200);
    const real = await send(emulator(), 'PATCH', `/Users/${id}`, {
      body: patchOp({ op: 'replace', path: 'active', value: false }),
    });
    expect(real.status).toBe(strict ? 204 : 200);
    expect(real.body).toEqual(strict ? undefined : expect.objectContaining({ active: false }));
    expect(emulator().store.getUser(id)?.active).toBe(false);
  });
});
