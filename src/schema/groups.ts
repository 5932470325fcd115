import type { Context } from '../context.ts';
import type { GroupKind } from '../directory/directory.ts';
import { NotFoundError, OutcomeUnknownError } from '../directory/outcomes.ts';
import type { GroupModel } from '../model.ts';
import { badInput, pickOneByName } from './connection.ts';
import { defineMutation, type PayloadFieldBuilder } from './define-mutation.ts';
import { checkKeeperId } from './ids.ts';
import { idOf, idsOf, keeperIds } from './mutation.ts';
import { branded, Role, Team } from './refs.ts';

// What team.ts and role.ts resolve alike: a Keeper team and a Keeper role are both SCIM Groups.

/** `loadMany` of the Team and Role nodes. */
export const loadGroups = async <K extends GroupKind>(kind: K, ids: string[], ctx: Context) =>
  branded(kind, await ctx.directory.groupsById(kind, ids));

type GroupLookupArgs = {
  id?: { typename: string; id: string } | null;
  keeperId?: string | null;
  name?: string | null;
};

/** `team(…)` and `role(…)`: by exactly one of a global id, a Keeper id or a name. */
export async function findGroup<K extends GroupKind>(kind: K, args: GroupLookupArgs, ctx: Context) {
  const given = (['id', 'keeperId', 'name'] as const).filter((k) => args[k] != null);
  if (given.length !== 1) throw badInput('Give exactly one of `id`, `keeperId` or `name`');
  if (args.name != null) {
    return pickOneByName(await ctx.directory.groupsNamed(kind, args.name), args.name);
  }
  if (args.keeperId != null) checkKeeperId(ctx, kind, args.keeperId, 'keeperId');
  const keeperId = args.id ? (args.id.typename === kind ? args.id.id : null) : args.keeperId;
  if (keeperId == null) return null;
  return ctx.directory.group(kind, keeperId);
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
  const lower = kind === 'Team' ? 'team' : 'role';
  const idField = `${lower}Id`;
  defineMutation({
    name: spec.name,
    scope: 'directory:write',
    description: spec.description,
    input: {
      description: spec.input,
      argument: `${kind} and users.`,
      fields: (t) => ({
        [idField]: t.globalID({ required: true, description: `The global id of the ${lower}.` }),
        userIds: t.globalIDList({ required: true, description: spec.userIds }),
      }),
    },
    rules: {
      [idField]: idOf(kind),
      userIds: idsOf('User').min(1, { error: 'give at least 1 user id' }),
    },
    payload: {
      description: `The ${lower} after the change.`,
      // `team` or `role`: the audit trail and idempotent replays read the object by that name.
      fields: (t: PayloadFieldBuilder<Record<string, GroupModel>>) => ({
        [lower]: t.field({
          type: kind === 'Team' ? Team : Role,
          description: `The ${lower}, with its members read after the change.`,
          resolve: (p) => p[lower] as never,
        }),
      }),
    },
    errors: [NotFoundError, OutcomeUnknownError],
    result: `The changed ${lower}, or why not.`,
    run: async (input, ctx) => {
      const groupId = (input[idField] as { id: string }).id;
      const userIds = keeperIds(input.userIds as { id: string }[]);
      const change = adds ? { add: userIds, remove: [] } : { add: [], remove: userIds };
      return { [lower]: await ctx.directory.changeMembers(kind, groupId, change) };
    },
  });
}
