import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  EmailAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  SeatLimitReachedError,
} from '../directory/outcomes.ts';
import type { PayloadBase } from '../directory/writes/run.ts';
import { changesSomething, type Deprovisioned } from '../directory/writes/users.ts';
import type { UserModel } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { COMMON_ERRORS, invalidInput } from './errors.ts';
import {
  clientMutationIdField,
  email,
  idOf,
  idsOf,
  inputRules,
  keeperIds,
  nonEmpty,
  payloadBaseFields,
  runMutation,
} from './mutation.ts';
import { User } from './refs.ts';

type UserPayload = { user: UserModel } & PayloadBase;

const userPayload = (name: string, description: string, userDescription: string) =>
  builder.objectRef<UserPayload>(name).implement({
    description,
    fields: (t) => ({
      user: t.field({ type: User, description: userDescription, resolve: (p) => p.user }),
      ...payloadBaseFields(t),
    }),
  });

const given = <T>(v: T | null | undefined): T | undefined => v ?? undefined;

// ---- createUser ----------------------------------------------------------------------------------

const CreateUserInput = builder.inputType('CreateUserInput', {
  description:
    'A user to invite into the Keeper node, with the teams and roles to join. Keeper sends the invitation e-mail.',
  fields: (t) => ({
    userName: t.string({
      required: true,
      description:
        'The e-mail address the user signs in with (Keeper requires an address; unique without case).',
    }),
    displayName: t.string({
      required: false,
      description: 'Full name as Keeper shows it; Keeper uses the userName when it is not given.',
    }),
    givenName: t.string({ required: false, description: 'Given name.' }),
    familyName: t.string({ required: false, description: 'Family name.' }),
    externalId: t.string({
      required: false,
      description: "The identity provider's id for this user.",
    }),
    teamIds: t.globalIDList({
      required: false,
      description: 'Global ids of teams to join, in the same call (Keeper queues the memberships).',
    }),
    roleIds: t.globalIDList({
      required: false,
      description: 'Global ids of roles to assign, in the same call.',
    }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({
    userName: email,
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
    teamIds: idsOf('Team').nullish(),
    roleIds: idsOf('Role').nullish(),
  }),
});

const CreateUserPayload = userPayload(
  'CreateUserPayload',
  'The invited user.',
  'The user as Keeper stored it, with its teams and roles.',
);

builder.mutationField('createUser', (t) =>
  t.field({
    type: CreateUserPayload,
    ...requires('users:lifecycle'),
    description:
      'Invites a user (`POST /Users`), joining the given teams and roles in the same call. Never creates a user twice: when the answer is lost, the user is looked up by userName before anything else happens, and the result is either the user or OutcomeUnknownError.',
    errors: {
      types: [
        ...COMMON_ERRORS,
        EmailAlreadyInUseError,
        SeatLimitReachedError,
        NotFoundError,
        OutcomeUnknownError,
      ],
      directResult: true,
      union: {
        name: 'CreateUserResult',
        description: 'The invited user, or why not.',
      },
    },
    args: {
      input: t.arg({ type: CreateUserInput, required: true, description: 'The user to invite.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'createUser', input, async (run) => ({
        user: await ctx.directory.createUser(
          {
            ...input,
            teamIds: keeperIds(input.teamIds),
            roleIds: keeperIds(input.roleIds),
          },
          run,
        ),
      })),
  }),
);

// ---- updateUser ----------------------------------------------------------------------------------

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  description:
    'Attributes to change on a user; fields left out stay as they are, and `null` clears the clearable ones (givenName, familyName, externalId).',
  fields: (t) => ({
    id: t.globalID({ required: true, description: 'The global id of the user.' }),
    userName: t.string({
      required: false,
      description: 'A new e-mail address to sign in with.',
    }),
    displayName: t.string({ required: false, description: 'A new full name.' }),
    givenName: t.string({
      required: false,
      description: 'A new given name; null clears it.',
    }),
    familyName: t.string({
      required: false,
      description: 'A new family name; null clears it.',
    }),
    externalId: t.string({
      required: false,
      description: 'A new identity-provider id; null clears it.',
    }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({
    id: idOf('User'),
    userName: email.nullish(),
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
  }),
});

const UpdateUserPayload = userPayload(
  'UpdateUserPayload',
  'The updated user.',
  'The user as Keeper now has it.',
);

builder.mutationField('updateUser', (t) =>
  t.field({
    type: UpdateUserPayload,
    ...requires('users:lifecycle'),
    description:
      'Changes only the given attributes of a user (`PATCH /Users/{id}` with one `replace` per attribute, `remove` for a cleared one). Safe to retry: the operations set values.',
    errors: {
      types: [...COMMON_ERRORS, EmailAlreadyInUseError, NotFoundError],
      directResult: true,
      union: { name: 'UpdateUserResult', description: 'The updated user, or why not.' },
    },
    args: {
      input: t.arg({ type: UpdateUserInput, required: true, description: 'What to change.' }),
    },
    resolve: (_root, { input }, ctx) => {
      const id = input.id.id;
      for (const field of ['userName', 'displayName'] as const) {
        if (input[field] === null) {
          throw invalidInput({ path: ['input', field], message: 'cannot be cleared' });
        }
      }
      const changes = {
        userName: given(input.userName),
        displayName: given(input.displayName),
        externalId: input.externalId,
        givenName: input.givenName,
        familyName: input.familyName,
      };
      if (!changesSomething(changes)) {
        throw invalidInput({ path: ['input'], message: 'give at least one attribute to change' });
      }
      return runMutation(ctx, 'updateUser', input, async () => ({
        user: await ctx.directory.updateUser(id, changes),
      }));
    },
  }),
);

// ---- replaceUser ---------------------------------------------------------------------------------

const ReplaceUserInput = builder.inputType('ReplaceUserInput', {
  description:
    'Every attribute of a user: what is left out is cleared. Team and role memberships are not part of it (use the team and role mutations).',
  fields: (t) => ({
    id: t.globalID({ required: true, description: 'The global id of the user.' }),
    userName: t.string({
      required: true,
      description: 'The e-mail address to sign in with.',
    }),
    displayName: t.string({
      required: false,
      description: 'Full name; Keeper uses the userName when it is left out.',
    }),
    givenName: t.string({ required: false, description: 'Given name.' }),
    familyName: t.string({ required: false, description: 'Family name.' }),
    externalId: t.string({
      required: false,
      description: "The identity provider's id.",
    }),
    active: t.boolean({
      required: true,
      description:
        'False locks the user. Required: some SCIM servers lock a user whose PUT leaves `active` out.',
    }),
    clientMutationId: clientMutationIdField(t),
  }),
  validate: inputRules({
    id: idOf('User'),
    userName: email,
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
  }),
});

const ReplaceUserPayload = userPayload(
  'ReplaceUserPayload',
  'The replaced user.',
  'The user as Keeper now has it.',
);

builder.mutationField('replaceUser', (t) =>
  t.field({
    type: ReplaceUserPayload,
    ...requires('users:lifecycle'),
    description:
      'Replaces all attributes of a user (`PUT /Users/{id}`). Idempotent, so retried on upstream failures.',
    errors: {
      types: [...COMMON_ERRORS, EmailAlreadyInUseError, NotFoundError],
      directResult: true,
      union: { name: 'ReplaceUserResult', description: 'The replaced user, or why not.' },
    },
    args: {
      input: t.arg({ type: ReplaceUserInput, required: true, description: 'The full user.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'replaceUser', input, async () => ({
        user: await ctx.directory.replaceUser(input.id.id, input),
      })),
  }),
);

// ---- lockUser, unlockUser, deprovisionUser -----------------------------------------------------

const UserRefInput = (name: string, description: string) =>
  builder.inputType(name, {
    description,
    fields: (t) => ({
      id: t.globalID({ required: true, description: 'The global id of the user.' }),
      clientMutationId: clientMutationIdField(t),
    }),
    validate: inputRules({ id: idOf('User') }),
  });

const activeMutation = (name: 'lockUser' | 'unlockUser', active: boolean, description: string) => {
  const Input = UserRefInput(
    `${name[0]?.toUpperCase()}${name.slice(1)}Input`,
    active ? 'The user to unlock.' : 'The user to lock.',
  );
  const Payload = userPayload(
    `${name[0]?.toUpperCase()}${name.slice(1)}Payload`,
    active ? 'The unlocked user.' : 'The locked user.',
    `The user, now with \`active: ${active}\`.`,
  );
  builder.mutationField(name, (t) =>
    t.field({
      type: Payload,
      ...requires('users:lifecycle'),
      description,
      errors: {
        types: [...COMMON_ERRORS, NotFoundError],
        directResult: true,
        union: {
          name: `${name[0]?.toUpperCase()}${name.slice(1)}Result`,
          description: active ? 'The unlocked user, or why not.' : 'The locked user, or why not.',
        },
      },
      args: { input: t.arg({ type: Input, required: true, description: 'Which user.' }) },
      resolve: (_root, { input }, ctx) =>
        runMutation(ctx, name, input, async () => ({
          user: await ctx.directory.setUserActive(input.id.id, active),
        })),
    }),
  );
};

activeMutation(
  'lockUser',
  false,
  'Locks a user (`PATCH /Users/{id}` `active: false`): the user can no longer sign in, keeps its seat, data and memberships. Safe to retry.',
);
activeMutation(
  'unlockUser',
  true,
  'Unlocks a user (`PATCH /Users/{id}` `active: true`). Safe to retry.',
);

const DeprovisionUserInput = UserRefInput('DeprovisionUserInput', 'The user to deprovision.');

type DeprovisionPayload = Deprovisioned & PayloadBase;

const DeprovisionState = builder.enumType('DeprovisionState', {
  description: 'What deprovisioning did to the user; it depends on the upstream.',
  values: {
    LOCKED: {
      description:
        'The user is locked (`active: false`) and still listed; `unlockUser` brings it back. What Keeper does.',
    },
    DELETED: {
      description:
        'The user is gone from the upstream (RFC 7644 `DELETE` semantics of other SCIM servers).',
    },
  },
});

const DeprovisionUserPayload = builder
  .objectRef<DeprovisionPayload>('DeprovisionUserPayload')
  .implement({
    description:
      'The deprovisioned user: locked (Keeper) or deleted (other SCIM servers). A repeat answers the same.',
    fields: (t) => ({
      state: t.field({
        type: DeprovisionState,
        description: 'Whether the user is now locked or deleted.',
        resolve: (p) => p.state,
      }),
      deprovisionedUserId: t.id({
        description: 'The global id of the user.',
        resolve: (p) => encodeGlobalID('User', p.keeperId),
      }),
      user: t.field({
        type: User,
        nullable: true,
        description: 'The user, still listed, with `active: false` when LOCKED; null when DELETED.',
        resolve: (p) => p.user,
      }),
      ...payloadBaseFields(t),
    }),
  });

builder.mutationField('deprovisionUser', (t) =>
  t.field({
    type: DeprovisionUserPayload,
    ...requires('users:lifecycle'),
    description:
      'Deprovisions a user (`DELETE /Users/{id}`). Keeper does NOT delete the user: it LOCKS it. The user stays listed with `active: false`, keeps its seat until an admin removes it in the Admin Console, and `unlockUser` brings it back; `state` is then LOCKED. An upstream that really deletes answers DELETED with `user: null`. Safe to retry: a repeat answers the same state.',
    errors: {
      types: [...COMMON_ERRORS, NotFoundError],
      directResult: true,
      union: { name: 'DeprovisionUserResult', description: 'The deprovisioned user, or why not.' },
    },
    args: {
      input: t.arg({ type: DeprovisionUserInput, required: true, description: 'Which user.' }),
    },
    resolve: (_root, { input }, ctx) =>
      runMutation(ctx, 'deprovisionUser', input, () => ctx.directory.deprovisionUser(input.id.id)),
  }),
);
