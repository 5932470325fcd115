import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../directory/outcomes.ts';
import type { PayloadBase } from '../directory/writes/run.ts';
import type { TeamModel } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { COMMON_ERRORS } from './errors.ts';
import {
  checkTeamName,
  clientMutationIdField,
  type InputFieldBuilder,
  idOf,
  idsOf,
  inputRules,
  keeperIds,
  nonEmpty,
  payloadBaseFields,
  runMutation,
} from './mutation.ts';
import { Team } from './refs.ts';

type TeamPayload = { team: TeamModel } & PayloadBase;

const teamPayload = (name: string, description: string, teamDescription: string) =>
  builder.objectRef<TeamPayload>(name).implement({
    description,
    fields: (t) => ({
      team: t.field({ type: Team, description: teamDescription, resolve: (p) => p.team }),
      ...payloadBaseFields(t),
    }),
  });

const teamIdField = (t: InputFieldBuilder) =>
  t.globalID({ required: true, description: 'The global id of the team.' });

const userIdsField = (t: InputFieldBuilder, description: string) =>
  t.globalIDList({ required: true, description });

// ---- createTeam ----------------------------------------------------------------------------------

const CreateTeamInput = builder.inputType('CreateTeamInput', {
  description: 'A team to create, optionally with its first members.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'The team name. It must not start with the role prefix (that makes a role).',
    }),
    externalId: t.string({
      required: false,
      description:
        "The identity provider's id for the team. When left out, a UUID is generated: it marks the team as SCIM-managed and lets a lost answer be settled by a look-up.",
    }),
    memberIds: t.globalIDList({
      required: false,
      description: 'Global ids of users to add in the same call (Keeper queues them).',
    }),
    allowDuplicateName: t.boolean({
      required: false,
      description:
        'Create even when another team or role has this name (compared without case). Keeper allows it; an upstream with unique names still answers NameAlreadyInUseError. Default false: a taken name is NameAlreadyInUseError and nothing is written.',
    }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({
    name: nonEmpty,
    externalId: nonEmpty.nullish(),
    memberIds: idsOf('User').nullish(),
  }),
});

const CreateTeamPayload = teamPayload(
  'CreateTeamPayload',
  'The created team.',
  'The team as Keeper stored it. Keeper keeps SCIM-created teams queued until an admin or Keeper Automator approves them.',
);

builder.mutationField('createTeam', (t) =>
  t.field({
    type: CreateTeamPayload,
    ...requires('directory:write'),
    description:
      'Creates a team (`POST /Groups`), with its first members in the same call. Never creates a team twice: when the answer is lost, the team is looked up by externalId and name before anything else happens.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, NameAlreadyInUseError, OutcomeUnknownError],
      directResult: true,
      union: { name: 'CreateTeamResult', description: 'The created team, or why not.' },
    },
    args: {
      input: t.arg({ type: CreateTeamInput, required: true, description: 'The team to create.' }),
    },
    resolve: (_root, { input }, ctx) => {
      checkTeamName(ctx, input.name, ['input', 'name']);
      return runMutation(ctx, 'createTeam', input, async (run) => ({
        team: await ctx.directory.createGroup(
          'Team',
          { ...input, memberIds: keeperIds(input.memberIds) },
          run,
        ),
      }));
    },
  }),
);

// ---- renameTeam ----------------------------------------------------------------------------------

const RenameTeamInput = builder.inputType('RenameTeamInput', {
  description: 'A team and its new name.',
  fields: (t) => ({
    id: teamIdField(t),
    name: t.string({
      required: true,
      description: 'The new name. It must not start with the role prefix.',
    }),
    allowDuplicateName: t.boolean({
      required: false,
      description:
        'Rename even when another team or role has this name (compared without case). Keeper allows it; an upstream with unique names still answers NameAlreadyInUseError. Default false: a taken name is NameAlreadyInUseError and nothing is written.',
    }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({ id: idOf('Team'), name: nonEmpty }),
});

const RenameTeamPayload = teamPayload(
  'RenameTeamPayload',
  'The renamed team.',
  'The team with its new name.',
);

builder.mutationField('renameTeam', (t) =>
  t.field({
    type: RenameTeamPayload,
    ...requires('directory:write'),
    description:
      'Renames a team (`PATCH /Groups/{id}` replace `displayName`). Safe to retry: setting a name twice is setting it once.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, NameAlreadyInUseError],
      directResult: true,
      union: { name: 'RenameTeamResult', description: 'The renamed team, or why not.' },
    },
    args: {
      input: t.arg({ type: RenameTeamInput, required: true, description: 'Which team, new name.' }),
    },
    resolve: (_root, { input }, ctx) => {
      checkTeamName(ctx, input.name, ['input', 'name']);
      return runMutation(ctx, 'renameTeam', input, async () => ({
        team: await ctx.directory.renameGroup(
          'Team',
          input.id.id,
          input.name,
          input.allowDuplicateName === true,
        ),
      }));
    },
  }),
);

// ---- deleteTeam ----------------------------------------------------------------------------------

type DeletedPayload = { keeperId: string; globalId: string } & PayloadBase;

const DeleteTeamInput = builder.inputType('DeleteTeamInput', {
  description: 'The team to delete.',
  fields: (t) => ({ id: teamIdField(t), clientMutationId: clientMutationIdField(t) }),
  validate: inputRules({ id: idOf('Team') }),
});

const DeleteTeamPayload = builder.objectRef<DeletedPayload>('DeleteTeamPayload').implement({
  description: 'The deleted team, by id.',
  fields: (t) => ({
    deletedTeamId: t.id({
      description: 'The global id the team had.',
      resolve: (p) => p.globalId,
    }),
    deletedKeeperId: t.exposeString('keeperId', {
      description: "Keeper's team UID the team had.",
    }),
    ...payloadBaseFields(t),
  }),
});

builder.mutationField('deleteTeam', (t) =>
  t.field({
    type: DeleteTeamPayload,
    ...requires('directory:write'),
    description:
      'Deletes a team (`DELETE /Groups/{id}`); its members stay users of the node. Teams created outside SCIM (without externalId) are refused with UnmanagedGroupError, as Keeper’s own sync tools do.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, UnmanagedGroupError],
      directResult: true,
      union: { name: 'DeleteTeamResult', description: 'The deleted team, or why not.' },
    },
    args: {
      input: t.arg({ type: DeleteTeamInput, required: true, description: 'Which team.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'deleteTeam', input, async () => {
        await ctx.directory.deleteGroup('Team', input.id.id);
        return { keeperId: input.id.id, globalId: encodeGlobalID('Team', input.id.id) };
      }),
  }),
);

// ---- addTeamMembers, removeTeamMembers, setTeamMembers ------------------------------------------

const membershipInput = (name: string, description: string, idsDescription: string, min: number) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      teamId: teamIdField(t),
      userIds: userIdsField(t, idsDescription),
      clientMutationId: clientMutationIdField(t),
    }),
    validate: inputRules({
      teamId: idOf('Team'),
      userIds: idsOf('User').min(min, { error: `give at least ${min} user id` }),
    }),
  });

const membershipMutation = (
  name: 'addTeamMembers' | 'removeTeamMembers',
  description: string,
  change: (userIds: string[]) => { add: string[]; remove: string[] },
) => {
  const Name = `${name[0]?.toUpperCase()}${name.slice(1)}`;
  const Input = membershipInput(
    `${Name}Input`,
    name === 'addTeamMembers' ? 'Users to add to a team.' : 'Users to remove from a team.',
    name === 'addTeamMembers'
      ? 'Global ids of the users to add; ones already in the team are left as they are.'
      : 'Global ids of the users to remove; ones not in the team are ignored.',
    1,
  );
  const Payload = teamPayload(
    `${Name}Payload`,
    'The team after the change.',
    'The team, with its members read after the change.',
  );
  builder.mutationField(name, (t) =>
    t.field({
      type: Payload,
      ...requires('directory:write'),
      description,
      errors: {
        types: [...COMMON_ERRORS, NotFoundError, OutcomeUnknownError],
        directResult: true,
        union: { name: `${Name}Result`, description: 'The changed team, or why not.' },
      },
      args: { input: t.arg({ type: Input, required: true, description: 'Team and users.' }) },
      resolve: (_root, { input }, ctx) =>
        runMutation(ctx, name, input, async () => ({
          team: await ctx.directory.changeMembers(
            'Team',
            input.teamId.id,
            change(keeperIds(input.userIds)),
          ),
        })),
    }),
  );
};

membershipMutation(
  'addTeamMembers',
  'Adds users to a team with one `PATCH /Groups/{id}` (`add` `members`), however many. Safe to retry. Keeper queues new memberships until they are approved.',
  (userIds) => ({ add: userIds, remove: [] }),
);
membershipMutation(
  'removeTeamMembers',
  'Removes users from a team with one `PATCH /Groups/{id}` (`remove` `members` by value), however many. Safe to retry.',
  (userIds) => ({ add: [], remove: userIds }),
);

const SetTeamMembersInput = membershipInput(
  'SetTeamMembersInput',
  'A team and exactly the users it should have.',
  'Global ids of every user the team should have; an empty list empties the team.',
  0,
);

type SetMembersPayload = TeamPayload & { added: string[]; removed: string[] };

const SetTeamMembersPayload = builder
  .objectRef<SetMembersPayload>('SetTeamMembersPayload')
  .implement({
    description: 'The team with exactly the given members.',
    fields: (t) => ({
      team: t.field({
        type: Team,
        description: 'The team, with its members read after the change.',
        resolve: (p) => p.team,
      }),
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
      ...payloadBaseFields(t),
    }),
  });

builder.mutationField('setTeamMembers', (t) =>
  t.field({
    type: SetTeamMembersPayload,
    ...requires('directory:write'),
    description:
      'Makes the team have exactly these members: reads the current members, then sends the difference as one `PATCH /Groups/{id}` (`add` and `remove` together; none when nothing differs). Safe to retry.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, OutcomeUnknownError],
      directResult: true,
      union: { name: 'SetTeamMembersResult', description: 'The team, or why not.' },
    },
    args: {
      input: t.arg({
        type: SetTeamMembersInput,
        required: true,
        description: 'Team and its members.',
      }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'setTeamMembers', input, async () => {
        const { group, added, removed } = await ctx.directory.setMembers(
          'Team',
          input.teamId.id,
          keeperIds(input.userIds),
        );
        return { team: group, added, removed };
      }),
  }),
);
