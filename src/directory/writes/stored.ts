import type { GroupModel, UserModel } from '../../model.ts';
import { groupModel, type WriteEnv } from './env.ts';

// What the idempotency store keeps of a payload, and how a replay rebuilds it. A payload holds the
// written objects (a user, a team with 200 members); the store keeps only their ids, so that a
// remembered key costs bytes, not a copy of the object, and a replay answers the object as it is
// now, read fresh, like every other payload. Plain values (ids, counts, lists of ids) are kept.

type Ref = { $ref: 'User' | 'Team' | 'Role'; id: string };

const isRef = (v: unknown): v is Ref =>
  typeof v === 'object' && v !== null && '$ref' in v && 'id' in v;

const isUser = (v: unknown): v is UserModel =>
  typeof v === 'object' && v !== null && 'userName' in v && 'id' in v;

const isGroup = (v: unknown): v is GroupModel =>
  typeof v === 'object' && v !== null && 'kind' in v && 'group' in v;

/** The payload with every written object replaced by a reference to it. */
export function compactPayload(payload: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(payload).map(([field, value]) => [
      field,
      isUser(value)
        ? ({ $ref: 'User', id: value.id } satisfies Ref)
        : isGroup(value)
          ? ({ $ref: value.kind, id: value.group.id } satisfies Ref)
          : value,
    ]),
  );
}

/** The stored payload with every referenced object read again from the upstream. */
export async function revivePayload<T>(ctx: WriteEnv, stored: Record<string, unknown>): Promise<T> {
  const entries = await Promise.all(
    Object.entries(stored).map(async ([field, value]) => {
      if (!isRef(value)) return [field, value] as const;
      const object =
        value.$ref === 'User'
          ? await ctx.scim.users.get(value.id, ctx.call)
          : groupModel(ctx, await ctx.scim.groups.get(value.id, ctx.call));
      return [field, object] as const;
    }),
  );
  return Object.fromEntries(entries) as T;
}
