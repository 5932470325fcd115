import type { Context } from '../context.ts';
import type { GroupModel, UserModel } from '../model.ts';
import { type ConnectionArgs, mappedSource, resolveOffsetConnection } from './connection.ts';

/**
 * The members of a team or role as a connection. The member ids come from the request's
 * membership index (Group.members, or one user scan when the upstream omits them); only the
 * users of the requested page are loaded, through the batched `userById` loader.
 */
export async function resolveMembers(group: GroupModel, args: ConnectionArgs, ctx: Context) {
  const index = await ctx.loaders.membershipIndex();
  const ids = index.get(group.group.id) ?? [];
  return resolveOffsetConnection(
    args,
    mappedSource<string, UserModel>(ids, (page) =>
      Promise.all(page.map((id) => ctx.loaders.userById.load(id))),
    ),
  );
}
