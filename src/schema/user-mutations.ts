import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  EmailAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  SeatLimitReachedError,
} from '../directory/outcomes.ts';
import { changesSomething, type Deprovisioned } from '../directory/writes/users.ts';
import { builder } from './builder.ts';
import {
  defineMutation,
  idField,
  objectField,
  type PayloadFieldBuilder,
} from './define-mutation.ts';
import { invalidInput } from './errors.ts';
import { email, idOf, idsOf, keeperIds, nonEmpty } from './mutation.ts';
import { User } from './refs.ts';

const userField = (description: string) => objectField('user', User, description);

const userIdField = idField('user');

const given = <T>(v: T | null | undefined): T | undefined => v ?? undefined;

defineMutation({
  name: 'createUser',
  scope: 'users:lifecycle',
  description:
    'Invites a user (`POST /Users`), joining the given teams and roles in the same call. Never creates a user twice: when the answer is lost, the user is looked up by userName before anything else happens, and the result is either the user or OutcomeUnknownError.',
  input: {
    description:
      'A user to invite into the Keeper node, with the teams and roles to join. Keeper sends the invitation e-mail.',
    argument: 'The user to invite.',
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
        description:
          'Global ids of teams to join, in the same call (Keeper queues the memberships).',
      }),
      roleIds: t.globalIDList({
        required: false,
        description: 'Global ids of roles to assign, in the same call.',
      }),
    }),
  },
  rules: {
    userName: email,
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
    teamIds: idsOf('Team').nullish(),
    roleIds: idsOf('Role').nullish(),
  },
  payload: {
    description: 'The invited user.',
    fields: userField('The user as Keeper stored it, with its teams and roles.'),
  },
  errors: [EmailAlreadyInUseError, SeatLimitReachedError, NotFoundError, OutcomeUnknownError],
  result: 'The invited user, or why not.',
  run: async (input, ctx, run) => ({
    user: await ctx.directory.createUser(
      { ...input, teamIds: keeperIds(input.teamIds), roleIds: keeperIds(input.roleIds) },
      run,
    ),
  }),
});

/** The changes of an UpdateUserInput: left out stays, `null` clears. */
const changesOf = (input: {
  userName?: string | null;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  externalId?: string | null;
}) => ({
  userName: given(input.userName),
  displayName: given(input.displayName),
  externalId: input.externalId,
  givenName: input.givenName,
  familyName: input.familyName,
});

defineMutation({
  name: 'updateUser',
  scope: 'users:lifecycle',
  description:
    'Changes only the given attributes of a user (`PATCH /Users/{id}` with one `replace` per attribute, `remove` for a cleared one). Safe to retry: the operations set values.',
  input: {
    description:
      'Attributes to change on a user; fields left out stay as they are, and `null` clears the clearable ones (givenName, familyName, externalId).',
    argument: 'What to change.',
    fields: (t) => ({
      id: userIdField(t),
      userName: t.string({ required: false, description: 'A new e-mail address to sign in with.' }),
      displayName: t.string({ required: false, description: 'A new full name.' }),
      givenName: t.string({ required: false, description: 'A new given name; null clears it.' }),
      familyName: t.string({ required: false, description: 'A new family name; null clears it.' }),
      externalId: t.string({
        required: false,
        description: 'A new identity-provider id; null clears it.',
      }),
    }),
  },
  rules: {
    id: idOf('User'),
    userName: email.nullish(),
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
  },
  check: (input) => {
    for (const field of ['userName', 'displayName'] as const) {
      if (input[field] === null) {
        throw invalidInput({ path: ['input', field], message: 'cannot be cleared' });
      }
    }
    if (!changesSomething(changesOf(input))) {
      throw invalidInput({ path: ['input'], message: 'give at least one attribute to change' });
    }
  },
  payload: {
    description: 'The updated user.',
    fields: userField('The user as Keeper now has it.'),
  },
  errors: [EmailAlreadyInUseError, NotFoundError],
  result: 'The updated user, or why not.',
  run: async (input, ctx) => ({
    user: await ctx.directory.updateUser(input.id.id, changesOf(input)),
  }),
});

defineMutation({
  name: 'replaceUser',
  scope: 'users:lifecycle',
  description:
    'Replaces all attributes of a user (`PUT /Users/{id}`). Idempotent, so retried on upstream failures.',
  input: {
    description:
      'Every attribute of a user: what is left out is cleared. Team and role memberships are not part of it (use the team and role mutations).',
    argument: 'The full user.',
    fields: (t) => ({
      id: userIdField(t),
      userName: t.string({ required: true, description: 'The e-mail address to sign in with.' }),
      displayName: t.string({
        required: false,
        description: 'Full name; Keeper uses the userName when it is left out.',
      }),
      givenName: t.string({ required: false, description: 'Given name.' }),
      familyName: t.string({ required: false, description: 'Family name.' }),
      externalId: t.string({ required: false, description: "The identity provider's id." }),
      active: t.boolean({
        required: true,
        description:
          'False locks the user. Required: some SCIM servers lock a user whose PUT leaves `active` out.',
      }),
    }),
  },
  rules: {
    id: idOf('User'),
    userName: email,
    displayName: nonEmpty.nullish(),
    givenName: nonEmpty.nullish(),
    familyName: nonEmpty.nullish(),
    externalId: nonEmpty.nullish(),
  },
  payload: {
    description: 'The replaced user.',
    fields: userField('The user as Keeper now has it.'),
  },
  errors: [EmailAlreadyInUseError, NotFoundError],
  result: 'The replaced user, or why not.',
  run: async (input, ctx) => ({ user: await ctx.directory.replaceUser(input.id.id, input) }),
});

for (const [name, active, description] of [
  [
    'lockUser',
    false,
    'Locks a user (`PATCH /Users/{id}` `active: false`): the user can no longer sign in, keeps its seat, data and memberships. Safe to retry.',
  ],
  ['unlockUser', true, 'Unlocks a user (`PATCH /Users/{id}` `active: true`). Safe to retry.'],
] as const) {
  const done = active ? 'unlocked' : 'locked';
  defineMutation({
    name,
    scope: 'users:lifecycle',
    description,
    input: {
      description: `The user to ${active ? 'unlock' : 'lock'}.`,
      argument: 'Which user.',
      fields: (t) => ({ id: userIdField(t) }),
    },
    rules: { id: idOf('User') },
    payload: {
      description: `The ${done} user.`,
      fields: userField(`The user, now with \`active: ${active}\`.`),
    },
    errors: [NotFoundError],
    result: `The ${done} user, or why not.`,
    // Setting `active` twice is setting it once: retried like a PUT.
    run: async (input, ctx) => ({ user: await ctx.directory.setUserActive(input.id.id, active) }),
  });
}

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

defineMutation({
  name: 'deprovisionUser',
  scope: 'users:lifecycle',
  description:
    'Deprovisions a user (`DELETE /Users/{id}`). Keeper does NOT delete the user: it LOCKS it. The user stays listed with `active: false`, keeps its seat until an admin removes it in the Admin Console, and `unlockUser` brings it back; `state` is then LOCKED. An upstream that really deletes answers DELETED with `user: null`. Safe to retry: a repeat answers the same state.',
  input: {
    description: 'The user to deprovision.',
    argument: 'Which user.',
    fields: (t) => ({ id: userIdField(t) }),
  },
  rules: { id: idOf('User') },
  payload: {
    description:
      'The deprovisioned user: locked (Keeper) or deleted (other SCIM servers). A repeat answers the same.',
    fields: (t: PayloadFieldBuilder<Deprovisioned>) => ({
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
    }),
  },
  errors: [NotFoundError],
  result: 'The deprovisioned user, or why not.',
  run: (input, ctx) => ctx.directory.deprovisionUser(input.id.id),
});
