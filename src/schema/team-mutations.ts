import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
} from '../directory/outcomes.ts';
import type { TeamModel } from '../model.ts';
import {
  defineMutation,
  idField,
  objectField,
  type PayloadFieldBuilder,
} from './define-mutation.ts';
import { defineGroupCreate, defineGroupDelete, defineMemberChange } from './group-mutations.ts';
import { checkTeamName, idOf, idsOf, keeperIds, nonEmpty } from './mutation.ts';
import { Team } from './refs.ts';

const teamField = (description: string) => objectField('team', Team, description);

const teamIdField = idField('team');

const ALLOW_DUPLICATE_NAME =
  'even when another team or role has this name (compared without case). Keeper allows it; an upstream with unique names still answers NameAlreadyInUseError. Default false: a taken name is NameAlreadyInUseError and nothing is written.';

defineGroupCreate({
  kind: 'Team',
  description:
    'Creates a team (`POST /Groups`), with its first members in the same call. Never creates a team twice: when the answer is lost, the team is looked up by externalId and name before anything else happens.',
  input: 'A team to create, optionally with its first members.',
  fields: {
    name: 'The team name. It must not start with the role prefix (that makes a role).',
    externalId:
      "The identity provider's id for the team. When left out, a UUID is generated: it marks the team as SCIM-managed and lets a lost answer be settled by a look-up.",
    memberIds: 'Global ids of users to add in the same call (Keeper queues them).',
    allowDuplicateName: `Create ${ALLOW_DUPLICATE_NAME}`,
  },
  checkName: checkTeamName,
  payload:
    'The team as Keeper stored it. Keeper keeps SCIM-created teams queued until an admin or Keeper Automator approves them.',
});

defineMutation({
  name: 'renameTeam',
  scope: 'directory:write',
  description:
    'Renames a team (`PATCH /Groups/{id}` replace `displayName`). Safe to retry: setting a name twice is setting it once.',
  input: {
    description: 'A team and its new name.',
    argument: 'Which team, new name.',
    fields: (t) => ({
      id: teamIdField(t),
      name: t.string({
        required: true,
        description: 'The new name. It must not start with the role prefix.',
      }),
      allowDuplicateName: t.boolean({
        required: false,
        description: `Rename ${ALLOW_DUPLICATE_NAME}`,
      }),
    }),
  },
  rules: { id: idOf('Team'), name: nonEmpty },
  check: (input, ctx) => checkTeamName(ctx, input.name, ['input', 'name']),
  payload: { description: 'The renamed team.', fields: teamField('The team with its new name.') },
  errors: [NotFoundError, NameAlreadyInUseError],
  result: 'The renamed team, or why not.',
  run: async (input, ctx) => ({
    team: await ctx.directory.renameGroup(
      'Team',
      input.id.id,
      input.name,
      input.allowDuplicateName === true,
    ),
  }),
});

defineGroupDelete({
  kind: 'Team',
  description:
    'Deletes a team (`DELETE /Groups/{id}`); its members stay users of the node. Teams created outside SCIM (without externalId) are refused with UnmanagedGroupError, as Keeper’s own sync tools do.',
  keeperId: "Keeper's team UID the team had.",
});

defineMemberChange({
  kind: 'Team',
  name: 'addTeamMembers',
  adds: true,
  description:
    'Adds users to a team with one `PATCH /Groups/{id}` (`add` `members`), however many. Safe to retry. Keeper queues new memberships until they are approved.',
  input: 'Users to add to a team.',
  userIds: 'Global ids of the users to add; ones already in the team are left as they are.',
});

defineMemberChange({
  kind: 'Team',
  name: 'removeTeamMembers',
  adds: false,
  description:
    'Removes users from a team with one `PATCH /Groups/{id}` (`remove` `members` by value), however many. Safe to retry.',
  input: 'Users to remove from a team.',
  userIds: 'Global ids of the users to remove; ones not in the team are ignored.',
});

defineMutation({
  name: 'setTeamMembers',
  scope: 'directory:write',
  description:
    'Makes the team have exactly these members: reads the current members, then sends the difference as one `PATCH /Groups/{id}` (`add` and `remove` together; none when nothing differs). Safe to retry.',
  input: {
    description: 'A team and exactly the users it should have.',
    argument: 'Team and its members.',
    fields: (t) => ({
      teamId: teamIdField(t),
      userIds: t.globalIDList({
        required: true,
        description:
          'Global ids of every user the team should have; an empty list empties the team.',
      }),
    }),
  },
  rules: {
    teamId: idOf('Team'),
    userIds: idsOf('User'),
  },
  payload: {
    description: 'The team with exactly the given members.',
    fields: (t: PayloadFieldBuilder<{ team: TeamModel; added: string[]; removed: string[] }>) => ({
      ...teamField('The team, with its members read after the change.')(t),
      added: t.int({
        description: 'How many users this call added.',
        resolve: (p) => p.added.length,
      }),
      removed: t.int({
        description: 'How many users this call removed.',
        resolve: (p) => p.removed.length,
      }),
      addedIds: t.idList({
        description:
          'Global ids of the users this call added: the difference between the members it found and the ones it asked for.',
        resolve: (p) => p.added.map((id) => encodeGlobalID('User', id)),
      }),
      removedIds: t.idList({
        description: 'Global ids of the users this call removed.',
        resolve: (p) => p.removed.map((id) => encodeGlobalID('User', id)),
      }),
    }),
  },
  errors: [NotFoundError, OutcomeUnknownError],
  result: 'The team, or why not.',
  run: async (input, ctx) => {
    const { group, added, removed } = await ctx.directory.setMembers(
      'Team',
      input.teamId.id,
      keeperIds(input.userIds),
    );
    return { team: group, added, removed };
  },
});
