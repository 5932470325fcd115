import { describe, expect, it } from 'vitest';
import {
  AddTeamMembersDocument,
  DeleteTeamDocument,
  MirrorUsersDocument,
  RenameTeamDocument,
} from '../generated/graphql.ts';
import { startStack } from '../helpers.ts';
import { teamGid, userGid } from '../mutations/helpers.ts';

// The directory keeps what it derives from the mirror across requests: one model per user, and
// each user's teams and roles (src/directory/lists.ts), whose first pages the schema keeps too
// (src/schema/connection.ts). None of it may outlive a change: a renamed or deleted team and a
// new membership show in the very next answer.

describe('models kept from the directory mirror', () => {
  it('show a renamed team, a deleted team and a new membership in the next answer', async () => {
    const stack = await startStack({ env: { MIRROR: 'on' } });
    try {
      await stack.mirror!.ready();
      const store = stack.emulator.store;
      const page = async () => {
        const answer = await stack.run(MirrorUsersDocument, { first: 100 });
        expect(answer.errors).toBeUndefined();
        return new Map(
          answer.data!.users.edges.map((e) => [
            e.node.keeperId,
            e.node.teams!.edges.map((t) => t.node.name).sort(),
          ]),
        );
      };
      // A user with a team, asked twice so that everything derived is kept.
      const before = await page();
      expect(await page()).toEqual(before);
      const [userId, teams] = [...before].find(([, t]) => t.length > 0)!;
      const team = store.listTeams().find((t) => t.displayName === teams[0])!;

      const renamed = await stack.run(RenameTeamDocument, {
        input: { id: teamGid(team.id), name: 'Renamed Team 12' },
      });
      expect(renamed.data?.renameTeam.__typename).toBe('RenameTeamPayload');
      const afterRename = await page();
      expect(afterRename.get(userId)).toContain('Renamed Team 12');
      expect(afterRename.get(userId)).not.toContain(team.displayName);
      // Every other member of the team sees the new name too.
      for (const member of store.membersOf(team.id)) {
        if (afterRename.has(member)) expect(afterRename.get(member)).toContain('Renamed Team 12');
      }

      const deleted = await stack.run(DeleteTeamDocument, { input: { id: teamGid(team.id) } });
      expect(deleted.data?.deleteTeam.__typename).toBe('DeleteTeamPayload');
      expect((await page()).get(userId)).not.toContain('Renamed Team 12');

      const other = store.listTeams().find((t) => !store.membersOf(t.id).includes(userId))!;
      const added = await stack.run(AddTeamMembersDocument, {
        input: { teamId: teamGid(other.id), userIds: [userGid(userId)] },
      });
      expect(added.data?.addTeamMembers.__typename).toBe('AddTeamMembersPayload');
      expect((await page()).get(userId)).toContain(other.displayName);
    } finally {
      await stack.close();
    }
  });
});
