import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../directory/outcomes.ts';
import type { PayloadBase } from '../directory/writes/run.ts';
import type { RoleModel } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { COMMON_ERRORS } from './errors.ts';
import {
  checkRoleName,
  clientMutationIdField,
  idOf,
  idsOf,
  inputRules,
  keeperIds,
  nonEmpty,
  payloadBaseFields,
  runMutation,
} from './mutation.ts';
import { Role } from './refs.ts';

// Keeper roles over SCIM are Groups whose displayName starts with the node's role prefix
// (docs/keeper-scim.md §7): callers name roles without it, the facade adds it.

type RolePayload = { role: RoleModel } & PayloadBase;

const rolePayload = (name: string, description: string, roleDescription: string) =>
  builder.objectRef<RolePayload>(name).implement({
    description,
    fields: (t) => ({
      role: t.field({ type: Role, description: roleDescription, resolve: (p) => p.role }),
      ...payloadBaseFields(t),
    }),
  });

// ---- createRole ----------------------------------------------------------------------------------

const CreateRoleInput = builder.inputType('CreateRoleInput', {
  description: 'A role to create, optionally with the users to assign it to.',
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
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({
    name: nonEmpty,
    externalId: nonEmpty.nullish(),
    memberIds: idsOf('User').nullish(),
  }),
});

const CreateRolePayload = rolePayload(
  'CreateRolePayload',
  'The created role.',
  'The role as Keeper stored it.',
);

builder.mutationField('createRole', (t) =>
  t.field({
    type: CreateRolePayload,
    ...requires('directory:write'),
    description:
      'Creates a role (`POST /Groups` with the role prefix added to the name), with its first members in the same call. Never creates a role twice: when the answer is lost, it is looked up by externalId and name first.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, NameAlreadyInUseError, OutcomeUnknownError],
      directResult: true,
      union: { name: 'CreateRoleResult', description: 'The created role, or why not.' },
    },
    args: {
      input: t.arg({ type: CreateRoleInput, required: true, description: 'The role to create.' }),
    },
    resolve: (_root, { input }, ctx) => {
      checkRoleName(ctx, input.name, ['input', 'name']);
      return runMutation(ctx, 'createRole', input, async (run) => ({
        role: await ctx.directory.createGroup(
          'Role',
          { ...input, memberIds: keeperIds(input.memberIds) },
          run,
        ),
      }));
    },
  }),
);

// ---- deleteRole ----------------------------------------------------------------------------------

type DeletedPayload = { keeperId: string } & PayloadBase;

const DeleteRoleInput = builder.inputType('DeleteRoleInput', {
  description: 'The role to delete.',
  fields: (t) => ({
    id: t.globalID({ required: true, description: 'The global id of the role.' }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({ id: idOf('Role') }),
});

const DeleteRolePayload = builder.objectRef<DeletedPayload>('DeleteRolePayload').implement({
  description: 'The deleted role, by id.',
  fields: (t) => ({
    deletedRoleId: t.id({
      description: 'The global id the role had.',
      resolve: (p) => encodeGlobalID('Role', p.keeperId),
    }),
    deletedKeeperId: t.exposeString('keeperId', {
      description: "Keeper's id of the role's group.",
    }),
    ...payloadBaseFields(t),
  }),
});

builder.mutationField('deleteRole', (t) =>
  t.field({
    type: DeleteRolePayload,
    ...requires('directory:write'),
    description:
      'Deletes a role (`DELETE /Groups/{id}`); its users keep their other roles and teams. Roles created outside SCIM (without externalId) are refused with UnmanagedGroupError.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError, UnmanagedGroupError],
      directResult: true,
      union: { name: 'DeleteRoleResult', description: 'The deleted role, or why not.' },
    },
    args: {
      input: t.arg({ type: DeleteRoleInput, required: true, description: 'Which role.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'deleteRole', input, async () => {
        await ctx.directory.deleteGroup('Role', input.id.id);
        return { keeperId: input.id.id };
      }),
  }),
);

// ---- assignRole, unassignRole --------------------------------------------------------------------

const assignment = (name: 'assignRole' | 'unassignRole', description: string) => {
  const Name = `${name[0]?.toUpperCase()}${name.slice(1)}`;
  const assign = name === 'assignRole';
  const Input = builder.inputType(`${Name}Input`, {
    description: assign
      ? 'A role and the users to assign it to.'
      : 'A role and the users to take it from.',
    fields: (t) => ({
      roleId: t.globalID({ required: true, description: 'The global id of the role.' }),
      userIds: t.globalIDList({
        required: true,
        description: assign
          ? 'Global ids of the users; ones that already have the role are left as they are.'
          : 'Global ids of the users; ones without the role are ignored.',
      }),
      clientMutationId: clientMutationIdField(t),
    }),
    validate: inputRules({
      roleId: idOf('Role'),
      userIds: idsOf('User').min(1, { error: 'give at least 1 user id' }),
    }),
  });
  const Payload = rolePayload(
    `${Name}Payload`,
    'The role after the change.',
    'The role, with its members read after the change.',
  );
  builder.mutationField(name, (t) =>
    t.field({
      type: Payload,
      ...requires('directory:write'),
      description,
      errors: {
        types: [...COMMON_ERRORS, NotFoundError, OutcomeUnknownError],
        directResult: true,
        union: { name: `${Name}Result`, description: 'The changed role, or why not.' },
      },
      args: { input: t.arg({ type: Input, required: true, description: 'Role and users.' }) },
      resolve: (_root, { input }, ctx) =>
        runMutation(ctx, name, input, async () => {
          const userIds = keeperIds(input.userIds);
          return {
            role: await ctx.directory.changeMembers(
              'Role',
              input.roleId.id,
              assign ? { add: userIds, remove: [] } : { add: [], remove: userIds },
            ),
          };
        }),
    }),
  );
};

assignment(
  'assignRole',
  'Assigns a role to users with one `PATCH /Groups/{id}` (`add` `members`), however many. Safe to retry.',
);
assignment(
  'unassignRole',
  'Takes a role from users with one `PATCH /Groups/{id}` (`remove` `members` by value). Safe to retry.',
);
