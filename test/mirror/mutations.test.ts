import { describe, expect, it } from 'vitest';
import {
  AddTeamMembersDocument,
  CreateTeamDocument,
  DirectoryChangesDocument,
  DirectoryDocument,
  LockUserDocument,
} from '../generated/graphql.ts';
import { startStack } from '../helpers.ts';
import { teamGid, userGid } from '../mutations/helpers.ts';

// The write path tells the mirror what each successful mutation did: the mirror shows it at once
// and the change feed has a THIS_SERVICE change naming the mutation, before any refresh; the
// next refresh, which finds the same state upstream, adds nothing. A replayed idempotent call
// writes nothing and adds nothing.

describe('mutations and the directory mirror', () => {
  it('applies each mutation to the mirror at once, as a THIS_SERVICE change', async () => {
    const stack = await startStack({ env: { MIRROR: 'on' } });
    try {
      const start = (await stack.run(DirectoryDocument)).data?.directory?.changesCursor;
      const snapshot = stack.mirror!.current()!;
      const user = stack.emulator.store.listUsers().find((u) => u.active)!;

      const locked = await stack.run(LockUserDocument, { input: { id: userGid(user.id) } });
      expect(locked.errors).toBeUndefined();
      expect(snapshot.users.get(user.id)?.active).toBe(false);

      const created = await stack.run(CreateTeamDocument, {
        input: { name: 'Mirror Team', memberIds: [], clientMutationId: 'mirror-team-1' },
      });
      const teamId = (created.data!.createTeam as { team: { keeperId: string } }).team.keeperId;
      expect(snapshot.groups.get(teamId)).toMatchObject({ kind: 'Team', name: 'Mirror Team' });
      const added = await stack.run(AddTeamMembersDocument, {
        input: { teamId: teamGid(teamId), userIds: [userGid(user.id)] },
      });
      expect(added.errors).toBeUndefined();
      expect(snapshot.groups.get(teamId)?.members.has(user.id)).toBe(true);

      // A replay writes nothing and records nothing.
      await stack.run(CreateTeamDocument, {
        input: { name: 'Mirror Team', memberIds: [], clientMutationId: 'mirror-team-1' },
      });

      const feed = await stack.run(DirectoryChangesDocument, { after: start });
      expect(
        feed.data?.directoryChanges.edges.map((e) => [e.node.type, e.node.source, e.node.mutation]),
      ).toEqual([
        ['USER_LOCKED', 'THIS_SERVICE', 'lockUser'],
        ['TEAM_CREATED', 'THIS_SERVICE', 'createTeam'],
        ['MEMBER_ADDED', 'THIS_SERVICE', 'addTeamMembers'],
      ]);
      expect(await stack.mirror!.refresh()).toMatchObject({ ok: true, changes: 0 });
    } finally {
      await stack.close();
    }
  });
});
