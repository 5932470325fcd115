import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AssignRoleDocument,
  CreateRoleDocument,
  DeleteRoleDocument,
  UnassignRoleDocument,
} from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { nthUser, roleGid, seededGroup, teamGid, userGid, writes } from './helpers.ts';

describe('role mutations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetLog());

  it('creates a role by adding the role prefix to the name, in one POST', async () => {
    const user = nthUser(stack, 5);
    const result = await stack.run(CreateRoleDocument, {
      input: { name: 'Vault Reviewers', externalId: 'idp-role-1', memberIds: [userGid(user.id)] },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "createRole": {
          "__typename": "CreateRolePayload",
          "role": {
            "__typename": "Role",
            "externalId": "idp-role-1",
            "groupName": "ROLE_Vault Reviewers",
            "id": "Um9sZTozNDUwNzQ4NTI0MzAzNzI=",
            "keeperId": "345074852430372",
            "members": {
              "edges": [
                {
                  "node": {
                    "userName": "liam.kowalski@acme.example",
                  },
                },
              ],
              "totalCount": 1,
            },
            "name": "Vault Reviewers",
          },
        },
      }
    `);
    expect(writes(stack)).toEqual(['POST /Groups']);
    const stored = stack.emulator.store.listRoles().find((r) => r.externalId === 'idp-role-1');
    expect(stored).toMatchObject({ kind: 'role', displayName: 'ROLE_Vault Reviewers' });
    expect(stack.emulator.store.membersOf(stored?.id ?? '')).toEqual([user.id]);
  });

  it('refuses a role name that already carries the prefix, without calling Keeper', async () => {
    const result = await stack.run(CreateRoleDocument, { input: { name: 'ROLE_Admins' } });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "createRole": {
          "__typename": "InvalidInputError",
          "fields": [
            {
              "message": "give the role name without the role prefix "ROLE_"; it is added for you",
              "path": "input.name",
            },
          ],
          "message": "Validation error: input.name: give the role name without the role prefix "ROLE_"; it is added for you",
        },
      }
    `);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('assigns and unassigns a role for many users with one PATCH each', async () => {
    const role = seededGroup(stack, 'ROLE_Auditors');
    const before = stack.emulator.store.membersOf(role.id);
    const users = [nthUser(stack, 50), nthUser(stack, 51)].filter((u) => !before.includes(u.id));
    const assigned = await stack.run(AssignRoleDocument, {
      input: { roleId: roleGid(role.id), userIds: users.map((u) => userGid(u.id)) },
    });
    expect(assigned.data?.assignRole).toMatchObject({
      __typename: 'AssignRolePayload',
      role: { name: 'Auditors', members: { totalCount: before.length + users.length } },
    });
    expect(stack.emulator.store.membersOf(role.id).sort()).toEqual(
      [...before, ...users.map((u) => u.id)].sort(),
    );
    const unassigned = await stack.run(UnassignRoleDocument, {
      input: { roleId: roleGid(role.id), userIds: users.map((u) => userGid(u.id)) },
    });
    expect(unassigned.data?.unassignRole).toMatchObject({
      __typename: 'UnassignRolePayload',
      role: { members: { totalCount: before.length } },
    });
    expect(stack.emulator.store.membersOf(role.id).sort()).toEqual([...before].sort());
    expect(writes(stack)).toEqual([`PATCH /Groups/${role.id}`, `PATCH /Groups/${role.id}`]);
  });

  it('takes a team id for a role id as invalid input, without calling Keeper', async () => {
    const result = await stack.run(AssignRoleDocument, {
      input: { roleId: teamGid(seededGroup(stack, 'QA').id), userIds: [] },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "assignRole": {
          "__typename": "InvalidInputError",
          "fields": [
            {
              "message": "must be the id of a Role",
              "path": "input.roleId",
            },
            {
              "message": "give at least 1 user id",
              "path": "input.userIds",
            },
          ],
          "message": "Validation error: input.roleId: must be the id of a Role, input.userIds: give at least 1 user id",
        },
      }
    `);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('deletes a role, and answers NotFoundError when it is gone', async () => {
    const role = seededGroup(stack, 'ROLE_Finance Approvers');
    const deleted = await stack.run(DeleteRoleDocument, { input: { id: roleGid(role.id) } });
    expect(deleted.data).toMatchInlineSnapshot(`
      {
        "deleteRole": {
          "__typename": "DeleteRolePayload",
          "deletedKeeperId": "345074852430370",
          "deletedRoleId": "Um9sZTozNDUwNzQ4NTI0MzAzNzA=",
        },
      }
    `);
    expect(writes(stack)).toEqual([`DELETE /Groups/${role.id}`]);
    expect(stack.emulator.store.getGroup(role.id)).toBeUndefined();
    const again = await stack.run(DeleteRoleDocument, { input: { id: roleGid(role.id) } });
    expect(again.data?.deleteRole.__typename).toBe('NotFoundError');
  });
});
