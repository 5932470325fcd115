import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  AddTeamMembersDocument,
  CreateTeamDocument,
  DeleteTeamDocument,
  RemoveTeamMembersDocument,
  RenameTeamDocument,
  SetTeamMembersDocument,
} from '../generated/graphql.ts';
import { RFC_STRICT, type Stack, startStack } from '../helpers.ts';
import { nthUser, roleGid, seededGroup, teamGid, userGid, writes } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('team mutations', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());
  beforeEach(() => {
    stack.emulator.faults.clear();
    stack.resetLog();
  });

  const members = (teamId: string) =>
    stack.emulator.store
      .membersOf(teamId)
      .map((id) => stack.emulator.store.getUser(id)?.userName)
      .sort();

  it('creates a team with its first members in one POST', async () => {
    const [a, b] = [nthUser(stack, 0), nthUser(stack, 1)];
    const result = await stack.run(CreateTeamDocument, {
      input: { name: 'Quantum Lab', memberIds: [userGid(a.id), userGid(b.id)] },
    });
    expect(result.errors).toBeUndefined();
    const payload = result.data?.createTeam;
    if (payload?.__typename !== 'CreateTeamPayload') throw new Error(JSON.stringify(payload));
    // The externalId is a generated UUID; the rest is stable.
    expect(payload.team.externalId).toMatch(UUID);
    expect({ ...payload, team: { ...payload.team, externalId: '<uuid>' } }).toMatchInlineSnapshot(`
      {
        "__typename": "CreateTeamPayload",
        "clientMutationId": null,
        "replayed": false,
        "team": {
          "__typename": "Team",
          "externalId": "<uuid>",
          "id": "VGVhbTpQMjctVE5oWXRpVThfOU5GOWtKN1N3",
          "keeperId": "P27-TNhYtiU8_9NF9kJ7Sw",
          "members": {
            "edges": [
              {
                "node": {
                  "userName": "thomas.brennan@acme.example",
                },
              },
              {
                "node": {
                  "userName": "yusuf.hoffmann@acme.example",
                },
              },
            ],
            "totalCount": 2,
          },
          "name": "Quantum Lab",
        },
      }
    `);
    expect(writes(stack)).toEqual(['POST /Groups']);
    const stored = stack.emulator.store.getGroup(payload.team.keeperId);
    expect(stored).toMatchObject({ kind: 'team', displayName: 'Quantum Lab' });
    expect(stored?.externalId).toBe(payload.team.externalId);
    expect(members(payload.team.keeperId)).toEqual([a.userName, b.userName].sort());
  });

  it('refuses a team name with the role prefix, or empty, without calling Keeper', async () => {
    const prefixed = await stack.run(CreateTeamDocument, { input: { name: 'ROLE_Sneaky' } });
    const empty = await stack.run(CreateTeamDocument, {
      input: { name: '', memberIds: [teamGid(seededGroup(stack, 'QA').id)] },
    });
    const rename = await stack.run(RenameTeamDocument, {
      input: { id: teamGid(seededGroup(stack, 'QA').id), name: 'ROLE_QA' },
    });
    expect([prefixed.data, empty.data, rename.data]).toMatchInlineSnapshot(`
      [
        {
          "createTeam": {
            "__typename": "InvalidInputError",
            "fields": [
              {
                "message": "must not start with the role prefix "ROLE_": Keeper would create a role; use createRole",
                "path": "input.name",
              },
            ],
            "message": "Validation error: input.name: must not start with the role prefix "ROLE_": Keeper would create a role; use createRole",
          },
        },
        {
          "createTeam": {
            "__typename": "InvalidInputError",
            "fields": [
              {
                "message": "must not be empty",
                "path": "input.name",
              },
              {
                "message": "must be the id of a User",
                "path": "input.memberIds.0",
              },
            ],
            "message": "Validation error: input.name: must not be empty, input.memberIds.0: must be the id of a User",
          },
        },
        {
          "renameTeam": {
            "__typename": "InvalidInputError",
            "fields": [
              {
                "message": "must not start with the role prefix "ROLE_": Keeper would create a role; use createRole",
                "path": "input.name",
              },
            ],
            "message": "Validation error: input.name: must not start with the role prefix "ROLE_": Keeper would create a role; use createRole",
          },
        },
      ]
    `);
    expect(stack.upstreamCalls()).toEqual([]);
  });

  it('answers NotFoundError naming the member that does not exist, and creates nothing', async () => {
    const before = stack.emulator.store.listTeams().length;
    const result = await stack.run(CreateTeamDocument, {
      input: { name: 'Ghosts', memberIds: [userGid(nthUser(stack, 3).id), userGid('424242')] },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "createTeam": {
          "__typename": "NotFoundError",
          "id": "VXNlcjo0MjQyNDI=",
          "keeperId": "424242",
          "message": "No User with id VXNlcjo0MjQyNDI= (Keeper id 424242) in this Keeper node.",
          "typename": "User",
        },
      }
    `);
    expect(writes(stack)).toEqual(['POST /Groups']);
    expect(stack.emulator.store.listTeams()).toHaveLength(before);
  });

  it('renames a team with one PATCH', async () => {
    const team = seededGroup(stack, 'Interns 2025');
    const result = await stack.run(RenameTeamDocument, {
      input: { id: teamGid(team.id), name: 'Interns 2026' },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "renameTeam": {
          "__typename": "RenameTeamPayload",
          "team": {
            "keeperId": "ANpQG-KTO-pQluaY9jVXug",
            "name": "Interns 2026",
          },
        },
      }
    `);
    expect(writes(stack)).toEqual([`PATCH /Groups/${team.id}`]);
    expect(stack.emulator.store.getGroup(team.id)?.displayName).toBe('Interns 2026');
  });

  it('adds many users with one PATCH, leaving existing members alone', async () => {
    const team = seededGroup(stack, 'Board Observers');
    const existing = stack.emulator.store.membersOf(team.id);
    const newcomers = [nthUser(stack, 10), nthUser(stack, 11), nthUser(stack, 12)].filter(
      (u) => !existing.includes(u.id),
    );
    const result = await stack.run(AddTeamMembersDocument, {
      input: {
        teamId: teamGid(team.id),
        userIds: [...existing, ...newcomers.map((u) => u.id)].map(userGid),
      },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "addTeamMembers": {
          "__typename": "AddTeamMembersPayload",
          "team": {
            "__typename": "Team",
            "externalId": "65aa5d49-8f58-f7b5-6aca-5e19900f663b",
            "keeperId": "ewgZ2O1-0L6q8Wi89SFPSw",
            "members": {
              "edges": [
                {
                  "node": {
                    "userName": "anika.fischer2@acme.example",
                  },
                },
                {
                  "node": {
                    "userName": "zainab.schmidt@acme.example",
                  },
                },
                {
                  "node": {
                    "userName": "zoe.popescu@acme.example",
                  },
                },
                {
                  "node": {
                    "userName": "priya.weber@acme.example",
                  },
                },
              ],
              "totalCount": 4,
            },
            "name": "Board Observers",
          },
        },
      }
    `);
    expect(writes(stack)).toEqual([`PATCH /Groups/${team.id}`]);
    expect(stack.emulator.store.membersOf(team.id).sort()).toEqual(
      [...existing, ...newcomers.map((u) => u.id)].sort(),
    );
  });

  it('removes many users with one PATCH, ignoring non-members', async () => {
    const team = seededGroup(stack, 'Release Managers');
    const [gone, stays] = stack.emulator.store.membersOf(team.id);
    const result = await stack.run(RemoveTeamMembersDocument, {
      input: {
        teamId: teamGid(team.id),
        userIds: [userGid(gone ?? ''), userGid(nthUser(stack, 99).id)],
      },
    });
    expect(result.data?.removeTeamMembers.__typename).toBe('RemoveTeamMembersPayload');
    expect(writes(stack)).toEqual([`PATCH /Groups/${team.id}`]);
    expect(stack.emulator.store.membersOf(team.id)).not.toContain(gone);
    expect(stack.emulator.store.membersOf(team.id)).toContain(stays);
  });

  it('sets the members to exactly the given users with one read and one PATCH', async () => {
    const team = seededGroup(stack, 'Facilities');
    const [keep] = stack.emulator.store.membersOf(team.id);
    const wanted = [keep ?? '', nthUser(stack, 20).id, nthUser(stack, 21).id];
    const result = await stack.run(SetTeamMembersDocument, {
      input: { teamId: teamGid(team.id), userIds: wanted.map(userGid) },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "setTeamMembers": {
          "__typename": "SetTeamMembersPayload",
          "added": 2,
          "removed": 2,
          "team": {
            "__typename": "Team",
            "externalId": null,
            "keeperId": "bU5ZqRaz3X98Sh7o2gzS-Q",
            "members": {
              "edges": [
                {
                  "node": {
                    "userName": "lucia.bauer@acme.example",
                  },
                },
                {
                  "node": {
                    "userName": "mia.nguyen@acme.example",
                  },
                },
                {
                  "node": {
                    "userName": "bilal.adeyemi@acme.example",
                  },
                },
              ],
              "totalCount": 3,
            },
            "name": "Facilities",
          },
        },
      }
    `);
    // One read of the team, one PATCH (read back when it answers 204); the payload's members are
    // then read fresh.
    expect(
      stack
        .upstreamCalls()
        .map((c) => `${c.method} ${c.path.split('?')[0]}`)
        .filter((c) => !c.startsWith('GET /Users')),
    ).toEqual([
      `GET /Groups/${team.id}`,
      `PATCH /Groups/${team.id}`,
      ...(RFC_STRICT ? [`GET /Groups/${team.id}`] : []),
      'GET /Groups',
    ]);
    expect(stack.emulator.store.membersOf(team.id).sort()).toEqual([...wanted].sort());

    // The same set again: nothing to send.
    stack.resetLog();
    const again = await stack.run(SetTeamMembersDocument, {
      input: { teamId: teamGid(team.id), userIds: wanted.map(userGid) },
    });
    expect(again.data?.setTeamMembers).toMatchObject({ added: 0, removed: 0 });
    expect(writes(stack)).toEqual([]);
  });

  it('answers NotFoundError naming the unknown user, changing nothing', async () => {
    const team = seededGroup(stack, 'Security');
    const before = stack.emulator.store.membersOf(team.id);
    const result = await stack.run(AddTeamMembersDocument, {
      input: { teamId: teamGid(team.id), userIds: [userGid(nthUser(stack, 30).id), userGid('77')] },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "addTeamMembers": {
          "__typename": "NotFoundError",
          "id": "VXNlcjo3Nw==",
          "keeperId": "77",
          "message": "No User with id VXNlcjo3Nw== (Keeper id 77) in this Keeper node.",
          "typename": "User",
        },
      }
    `);
    expect(stack.emulator.store.membersOf(team.id)).toEqual(before);
  });

  it('answers NotFoundError for an unknown team', async () => {
    const id = teamGid('ZZZZZZZZZZZZZZZZZZZZZZ');
    const results = await Promise.all([
      stack.run(AddTeamMembersDocument, {
        input: { teamId: id, userIds: [userGid(nthUser(stack, 1).id)] },
      }),
      stack.run(RenameTeamDocument, { input: { id, name: 'Nope' } }),
      stack.run(DeleteTeamDocument, { input: { id } }),
      stack.run(SetTeamMembersDocument, { input: { teamId: id, userIds: [] } }),
    ]);
    expect(results.map((r) => Object.values(r.data ?? {})[0]?.__typename)).toEqual([
      'NotFoundError',
      'NotFoundError',
      'NotFoundError',
      'NotFoundError',
    ]);
    expect(writes(stack).filter((w) => w.startsWith('DELETE'))).toEqual([]);
  });

  it('deletes a SCIM-managed team after checking it, and refuses one made outside SCIM', async () => {
    const archive = seededGroup(stack, 'Archive');
    const deleted = await stack.run(DeleteTeamDocument, { input: { id: teamGid(archive.id) } });
    expect(deleted.data).toMatchInlineSnapshot(`
      {
        "deleteTeam": {
          "__typename": "DeleteTeamPayload",
          "deletedKeeperId": "b4wqzLcd5rvTDdyI234AHw",
          "deletedTeamId": "VGVhbTpiNHdxekxjZDVydlREZHlJMjM0QUh3",
        },
      }
    `);
    expect(writes(stack)).toEqual([`DELETE /Groups/${archive.id}`]);
    expect(stack.emulator.store.getGroup(archive.id)).toBeUndefined();

    stack.resetLog();
    const legal = seededGroup(stack, 'Legal');
    const refused = await stack.run(DeleteTeamDocument, { input: { id: teamGid(legal.id) } });
    expect(refused.data).toMatchInlineSnapshot(`
      {
        "deleteTeam": {
          "__typename": "UnmanagedGroupError",
          "id": "VGVhbTpVRnl1T0FscmtpUzkzdGlTWDA0R0hn",
          "message": "This team was created outside SCIM (it has no externalId); like Keeper's own sync tools, this service does not delete it. Delete it in the Keeper Admin Console.",
        },
      }
    `);
    expect(writes(stack)).toEqual([]);
    expect(stack.emulator.store.getGroup(legal.id)).toBeDefined();
  });

  it('takes a role id for a team id as invalid input, without calling Keeper', async () => {
    const result = await stack.run(DeleteTeamDocument, {
      input: { id: roleGid(seededGroup(stack, 'ROLE_Auditors').id) },
    });
    expect(result.data).toMatchInlineSnapshot(`
      {
        "deleteTeam": {
          "__typename": "InvalidInputError",
          "fields": [
            {
              "message": "must be the id of a Team",
              "path": "input.id",
            },
          ],
          "message": "Validation error: input.id: must be the id of a Team",
        },
      }
    `);
    expect(stack.upstreamCalls()).toEqual([]);
  });
});

describe('team mutations when Keeper omits Group.members', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { groupMembers: 'omit' } });
  });
  afterAll(() => stack.close());

  it('computes setTeamMembers from the users, still with one PATCH', async () => {
    const team = seededGroup(stack, 'Release Managers');
    const current = stack.emulator.store.membersOf(team.id);
    const wanted = [...current.slice(1), nthUser(stack, 40).id];
    stack.resetLog();
    const result = await stack.run(SetTeamMembersDocument, {
      input: { teamId: teamGid(team.id), userIds: wanted.map(userGid) },
    });
    expect(result.data?.setTeamMembers).toMatchObject({
      __typename: 'SetTeamMembersPayload',
      added: 1,
      removed: 1,
      team: { members: { totalCount: wanted.length } },
    });
    expect(writes(stack)).toEqual([`PATCH /Groups/${team.id}`]);
    expect(stack.emulator.store.membersOf(team.id).sort()).toEqual([...wanted].sort());
  });
});
