import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../directory/outcomes.ts';
import {
  defineMutation,
  type InputFieldBuilder,
  objectField,
  type PayloadFieldBuilder,
} from './define-mutation.ts';
import { defineMemberChange } from './groups.ts';
import { checkRoleName, idOf, idsOf, keeperIds, nonEmpty } from './mutation.ts';
import { Role } from './refs.ts';

// Keeper roles over SCIM are Groups whose displayName starts with the node's role prefix
// (docs/keeper-scim.md §7): callers name roles without it, the directory adds it.

const roleField = (description: string) => objectField('role', Role, description);

const roleIdField = (t: InputFieldBuilder) =>
  t.globalID({ required: true, description: 'The global id of the role.' });

defineMutation({
  name: 'createRole',
  scope: 'directory:write',
  description:
    'Creates a role (`POST /Groups` with the role prefix added to the name), with its first members in the same call. Never creates a role twice: when the answer is lost, it is looked up by externalId and name first.',
  input: {
    description: 'A role to create, optionally with the users to assign it to.',
    argument: 'The role to create.',
    fields: (t) => ({
      name: t.string({
        required: true,
        description:
          'The role name WITHOUT the role prefix; the facade adds it (`Auditors` → `ROLE_Auditors`).',
      }),
      externalId: t.string({
        required: false,
        description:
          "The identity provider's id for the role's group. When left out, a UUID is generated (see CreateTeamInput.externalId).",
      }),
      memberIds: t.globalIDList({
        required: false,
        description: 'Global ids of users to assign the role to in the same call.',
      }),
      allowDuplicateName: t.boolean({
        required: false,
        description:
          'Create even when another role has this name (compared without case). Keeper allows it; an upstream with unique names still answers NameAlreadyInUseError. Default false: a taken name is NameAlreadyInUseError and nothing is written.',
      }),
    }),
  },
  rules: { name: nonEmpty, externalId: nonEmpty.nullish(), memberIds: idsOf('User').nullish() },
  check: (input, ctx) => checkRoleName(ctx, input.name, ['input', 'name']),
  payload: { description: 'The created role.', fields: roleField('The role as Keeper stored it.') },
  errors: [NotFoundError, NameAlreadyInUseError, OutcomeUnknownError],
  result: 'The created role, or why not.',
  run: async (input, ctx, run) => ({
    role: await ctx.directory.createGroup(
      'Role',
      { ...input, memberIds: keeperIds(input.memberIds) },
      run,
    ),
  }),
});

defineMutation({
  name: 'deleteRole',
  scope: 'directory:write',
  description:
    'Deletes a role (`DELETE /Groups/{id}`); its users keep their other roles and teams. Roles created outside SCIM (without externalId) are refused with UnmanagedGroupError.',
  input: {
    description: 'The role to delete.',
    argument: 'Which role.',
    fields: (t) => ({ id: roleIdField(t) }),
  },
  rules: { id: idOf('Role') },
  payload: {
    description: 'The deleted role, by id.',
    fields: (t: PayloadFieldBuilder<{ keeperId: string }>) => ({
      deletedRoleId: t.id({
        description: 'The global id the role had.',
        resolve: (p) => encodeGlobalID('Role', p.keeperId),
      }),
      deletedKeeperId: t.exposeString('keeperId', {
        description: "Keeper's id of the role's group.",
      }),
    }),
  },
  errors: [NotFoundError, UnmanagedGroupError],
  result: 'The deleted role, or why not.',
  run: async (input, ctx) => {
    await ctx.directory.deleteGroup('Role', input.id.id);
    return { keeperId: input.id.id };
  },
});

defineMemberChange({
  kind: 'Role',
  name: 'assignRole',
  adds: true,
  description:
    'Assigns a role to users with one `PATCH /Groups/{id}` (`add` `members`), however many. Safe to retry.',
  input: 'A role and the users to assign it to.',
  userIds: 'Global ids of the users; ones that already have the role are left as they are.',
});

defineMemberChange({
  kind: 'Role',
  name: 'unassignRole',
  adds: false,
  description:
    'Takes a role from users with one `PATCH /Groups/{id}` (`remove` `members` by value). Safe to retry.',
  input: 'A role and the users to take it from.',
  userIds: 'Global ids of the users; ones without the role are ignored.',
});
