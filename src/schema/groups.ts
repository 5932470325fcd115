import type { Context } from '../context.ts';
import type { GroupKind } from '../directory/directory.ts';
import { badInput, pickOneByName } from './connection.ts';
import { checkKeeperId } from './ids.ts';
import { branded } from './refs.ts';

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
