import { encodeGlobalID } from '@pothos/plugin-relay';
import type { Context } from '../context.ts';
import type { GroupKind } from '../directory/directory.ts';
import {
  NameAlreadyInUseError,
  NotFoundError,
  OutcomeUnknownError,
  UnmanagedGroupError,
} from '../directory/outcomes.ts';
import type { GroupModel } from '../model.ts';
import { defineMutation, idField, type PayloadFieldBuilder } from './define-mutation.ts';
import { idOf, idsOf, keeperIds, nonEmpty } from './mutation.ts';
import { Role, Team } from './refs.ts';

// The mutations teams and roles have alike (a Keeper team and a Keeper role are both SCIM Groups):
// create, delete, and a change of members. Each takes the words that differ.

const lowerOf = (kind: GroupKind) => (kind === 'Team' ? 'team' : 'role');

/**
 * The payload's `team` or `role` field: the audit trail and idempotent replays read the written
 * object by that name.
 */
const groupField =
  (kind: GroupKind, description: string) =>
  (t: PayloadFieldBuilder<Record<string, GroupModel>>) => ({
    [lowerOf(kind)]: t.field({
      type: kind === 'Team' ? Team : Role,
      description,
      resolve: (p) => p[lowerOf(kind)] as never,
    }),
  });

/** createTeam, createRole: `POST /Groups`, with the first members. */
export function defineGroupCreate(spec: {
  kind: GroupKind;
  description: string;
  input: string;
  fields: { name: string; externalId: string; memberIds: string; allowDuplicateName: string };
  /** Checks the name against the role prefix, before anything is written. */
  checkName: (ctx: Context, name: string, path: (string | number)[]) => void;
  payload: string;
}): void {
  const { kind, fields } = spec;
  const lower = lowerOf(kind);
  defineMutation({
    name: `create${kind}`,
    scope: 'directory:write',
    description: spec.description,
    input: {
      description: spec.input,
      argument: `The ${lower} to create.`,
      fields: (t) => ({
        name: t.string({ required: true, description: fields.name }),
        externalId: t.string({ required: false, description: fields.externalId }),
        memberIds: t.globalIDList({ required: false, description: fields.memberIds }),
        allowDuplicateName: t.boolean({ required: false, description: fields.allowDuplicateName }),
      }),
    },
    rules: { name: nonEmpty, externalId: nonEmpty.nullish(), memberIds: idsOf('User').nullish() },
    check: (input, ctx) => spec.checkName(ctx, input.name, ['input', 'name']),
    payload: {
      description: `The created ${lower}.`,
      fields: groupField(kind, spec.payload),
    },
    errors: [NotFoundError, NameAlreadyInUseError, OutcomeUnknownError],
    result: `The created ${lower}, or why not.`,
    run: async (input, ctx, run) => ({
      [lower]: await ctx.directory.createGroup(
        kind,
        { ...input, memberIds: keeperIds(input.memberIds) },
        run,
      ),
    }),
  });
}

/** deleteTeam, deleteRole: `DELETE /Groups/{id}` of a SCIM-managed group. */
export function defineGroupDelete(spec: {
  kind: GroupKind;
  description: string;
  /** The description of `deletedKeeperId`. */
  keeperId: string;
}): void {
  const { kind } = spec;
  const lower = lowerOf(kind);
  defineMutation({
    name: `delete${kind}`,
    scope: 'directory:write',
    description: spec.description,
    input: {
      description: `The ${lower} to delete.`,
      argument: `Which ${lower}.`,
      fields: (t) => ({ id: idField(lower)(t) }),
    },
    rules: { id: idOf(kind) },
    payload: {
      description: `The deleted ${lower}, by id.`,
      fields: (t: PayloadFieldBuilder<{ keeperId: string }>) => ({
        [`deleted${kind}Id`]: t.id({
          description: `The global id the ${lower} had.`,
          resolve: (p) => encodeGlobalID(kind, p.keeperId),
        }),
        deletedKeeperId: t.exposeString('keeperId', { description: spec.keeperId }),
      }),
    },
    errors: [NotFoundError, UnmanagedGroupError],
    result: `The deleted ${lower}, or why not.`,
    run: async (input, ctx) => {
      await ctx.directory.deleteGroup(kind, input.id.id);
      return { keeperId: input.id.id };
    },
  });
}

/**
 * A mutation that adds users to, or removes them from, a team or role with one PATCH of its
 * members (addTeamMembers, removeTeamMembers, assignRole, unassignRole).
 */
export function defineMemberChange(spec: {
  kind: GroupKind;
  name: string;
  adds: boolean;
  description: string;
  input: string;
  userIds: string;
}): void {
  const { kind, adds } = spec;
  const lower = lowerOf(kind);
  const idKey = `${lower}Id`;
  defineMutation({
    name: spec.name,
    scope: 'directory:write',
    description: spec.description,
    input: {
      description: spec.input,
      argument: `${kind} and users.`,
      fields: (t) => ({
        [idKey]: idField(lower)(t),
        userIds: t.globalIDList({ required: true, description: spec.userIds }),
      }),
    },
    rules: {
      [idKey]: idOf(kind),
      userIds: idsOf('User').min(1, { error: 'give at least 1 user id' }),
    },
    payload: {
      description: `The ${lower} after the change.`,
      fields: groupField(kind, `The ${lower}, with its members read after the change.`),
    },
    errors: [NotFoundError, OutcomeUnknownError],
    result: `The changed ${lower}, or why not.`,
    run: async (input, ctx) => {
      const groupId = (input[idKey] as { id: string }).id;
      const userIds = keeperIds(input.userIds as { id: string }[]);
      const change = adds ? { add: userIds, remove: [] } : { add: [], remove: userIds };
      return { [lower]: await ctx.directory.changeMembers(kind, groupId, change) };
    },
  });
}
