import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  DirectiveLocation,
  GraphQLDirective,
  GraphQLError,
  type GraphQLResolveInfo,
} from 'graphql';
import type { Context } from '../context.ts';
import { ChangesResyncError } from '../directory/mirror/log.ts';
import type { Mirror } from '../directory/mirror/mirror.ts';
import {
  counts,
  MirrorCursorError,
  type Page,
  queryGroups,
  queryMembers,
} from '../directory/mirror/query.ts';
import {
  type ChangeEvent,
  type MirrorGroup,
  type MirrorUser,
  type Snapshot,
  toGroupModel,
  toUserModel,
} from '../directory/mirror/snapshot.ts';
import type { GroupModel, UserModel } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import {
  badInput,
  type Connection,
  type ConnectionArgs,
  MAX_PAGE_SIZE,
  resolveOffsetConnection,
  validatePageSize,
} from './connection.ts';

// The directory mirror's state and its change feed (src/directory/mirror): `directory`,
// `directoryChanges` (a page of changes after a cursor) and the `directoryChanged` subscription
// (Server-Sent Events, Yoga's transport). Null / refused when MIRROR=off.

type DirectoryState = { mirror: Mirror; snapshot: Snapshot };

const resync = (error: ChangesResyncError) =>
  new GraphQLError(error.message, { extensions: { code: 'RESYNC_REQUIRED' } });

const unavailable = (error: unknown) =>
  new GraphQLError(
    'The directory mirror has no snapshot: its first read of the node failed; retry later.',
    { extensions: { code: 'UPSTREAM_UNAVAILABLE' }, originalError: error as Error },
  );

function mirrorOf(ctx: Context): Mirror {
  if (!ctx.mirror) {
    throw new GraphQLError('The directory mirror is off on this service (MIRROR=off).', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return ctx.mirror;
}

/** `@fresh` on a query: nothing in its answer comes from the mirror (as `Cache-Control: no-cache`). */
export const freshDirective = new GraphQLDirective({
  name: 'fresh',
  description:
    'Answer this whole query with fresh reads of the upstream, not from the directory mirror (like the `Cache-Control: no-cache` header). Lists that only the mirror can answer (`orderBy`, `teamId`, `roleId`, `externalIdPresent`) are then refused.',
  locations: [DirectiveLocation.QUERY],
});

/** Fresh reads: asked for (header, directive), or a mutation's payload. */
const askedFresh = (ctx: Context, info: GraphQLResolveInfo) =>
  ctx.fresh ||
  info.operation.operation !== 'query' ||
  (info.operation.directives?.some((d) => d.name.value === 'fresh') ?? false);

/**
 * The mirror's snapshot for a list question of this request, or undefined when the answer must
 * be a fresh read (MIRROR=off, `@fresh`, `Cache-Control: no-cache`). Waits only for the first
 * read of the node; records the snapshot's age for `extensions.directory.asOf`.
 */
export async function mirrorFor(
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Snapshot | undefined> {
  if (!ctx.mirror || askedFresh(ctx, info)) return undefined;
  let snapshot: Snapshot;
  try {
    snapshot = await ctx.mirror.ready(ctx.request.signal);
  } catch (error) {
    throw unavailable(error);
  }
  if (!ctx.mirrorAsOf || snapshot.asOf < ctx.mirrorAsOf) ctx.mirrorAsOf = snapshot.asOf;
  return snapshot;
}

/** Users built from the mirror: their teams and roles come from the same snapshot. */
const fromMirror = new WeakSet<object>();

/** A page of the mirror as a connection of the schema's user models. */
export function mirroredUsers(page: () => Page<MirrorUser>): Connection<UserModel> {
  let result: Page<MirrorUser>;
  try {
    result = page();
  } catch (error) {
    if (error instanceof MirrorCursorError) throw badInput(error.message, error.argument);
    throw error;
  }
  const edges = result.edges.map(({ cursor, node }) => {
    const user = toUserModel(node);
    fromMirror.add(user);
    return { cursor, node: user };
  });
  return {
    edges,
    pageInfo: result.pageInfo,
    // Counted only when selected.
    get totalCount() {
      return result.totalCount();
    },
  };
}

/** The teams or roles of a user that came from the mirror, from it; else undefined. */
export function mirroredGroupsOf<K extends 'Team' | 'Role'>(
  ctx: Context,
  kind: K,
  user: UserModel,
): Extract<GroupModel, { kind: K }>[] | undefined {
  const snapshot = fromMirror.has(user) ? ctx.mirror?.current() : undefined;
  if (!snapshot) return undefined;
  return (user.groups ?? [])
    .map((ref) => snapshot.groups.get(ref.value))
    .filter((g) => g?.kind === kind)
    .map((g) => toGroupModel(g!) as Extract<GroupModel, { kind: K }>);
}

export const OrderDirection = builder.enumType('OrderDirection', {
  description: 'Ascending or descending.',
  values: {
    ASC: { description: 'A to Z.' },
    DESC: { description: 'Z to A.' },
  } as const,
});

export const GroupOrder = builder.inputType('GroupOrder', {
  description:
    'The order of teams or roles: by name without case (ties by id), answered from the directory mirror with keyset cursors.',
  fields: (t) => ({
    direction: t.field({
      type: OrderDirection,
      required: false,
      defaultValue: 'ASC',
      description: 'Ascending (default) or descending.',
    }),
  }),
});

/**
 * Teams or roles from the mirror (`nameContains`, `orderBy`), or undefined when the read must be
 * fresh; `orderBy` is refused then.
 */
export async function mirroredGroups<K extends 'Team' | 'Role'>(
  kind: K,
  args: ConnectionArgs & {
    nameContains?: string | null | undefined;
    orderBy?: { direction?: 'ASC' | 'DESC' | null } | null;
  },
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Connection<Extract<GroupModel, { kind: K }>> | undefined> {
  const snapshot = await mirrorFor(ctx, info);
  if (!snapshot) {
    if (args.orderBy != null) {
      throw badInput(
        'orderBy is answered from the directory mirror only: not with MIRROR=off, @fresh, Cache-Control: no-cache, or an exact name/externalId filter',
        'orderBy',
      );
    }
    return undefined;
  }
  validatePageSize(args);
  let page: Page<MirrorGroup>;
  try {
    page = queryGroups(snapshot, kind, {
      nameContains: args.nameContains ?? undefined,
      orderBy: { direction: args.orderBy?.direction ?? 'ASC' },
      first: args.first ?? undefined,
      after: args.after ?? undefined,
      last: args.last ?? undefined,
      before: args.before ?? undefined,
    });
  } catch (error) {
    if (error instanceof MirrorCursorError) throw badInput(error.message, error.argument);
    throw error;
  }
  return {
    edges: page.edges.map(({ cursor, node }) => ({
      cursor,
      node: toGroupModel(node) as Extract<GroupModel, { kind: K }>,
    })),
    pageInfo: page.pageInfo,
    get totalCount() {
      return page.totalCount();
    },
  };
}

export const MemberFilter = builder.inputType('MemberFilter', {
  description:
    'Narrows the members of a team or role; answered from the directory mirror (refused on a fresh read).',
  fields: (t) => ({
    active: t.boolean({
      required: false,
      description: 'Only active (true) or only locked (false) members.',
    }),
  }),
});

/**
 * The members of a team or role: from the mirror (ordered by userName, keyset cursors) unless
 * the read must be fresh or the mirror does not know the group yet; then read per request.
 */
export async function resolveMembers(
  group: GroupModel,
  args: ConnectionArgs & { filter?: { active?: boolean | null } | null },
  ctx: Context,
  info: GraphQLResolveInfo,
): Promise<Connection<UserModel>> {
  const snapshot = await mirrorFor(ctx, info);
  if (snapshot?.groups.has(group.group.id)) {
    validatePageSize(args);
    return mirroredUsers(
      () =>
        queryMembers(snapshot, group.group.id, {
          filter: { active: args.filter?.active ?? undefined },
          first: args.first ?? undefined,
          after: args.after ?? undefined,
          last: args.last ?? undefined,
          before: args.before ?? undefined,
        }) as Page<MirrorUser>,
    );
  }
  if (args.filter?.active != null) {
    throw badInput(
      'filter.active on members is answered from the directory mirror only: not with MIRROR=off, @fresh, Cache-Control: no-cache, in a mutation payload, or for a group the mirror does not know yet',
      'filter.active',
    );
  }
  return resolveOffsetConnection(args, await ctx.directory.membersOf(group));
}

const Directory = builder.objectRef<DirectoryState>('Directory').implement({
  description:
    'The directory mirror: one copy of the node kept by this service, refreshed every MIRROR_REFRESH_SECONDS and updated at once by its own mutations.',
  fields: (t) => ({
    asOf: t.string({
      description:
        'When the upstream read behind the mirror started (ISO 8601). Changes made outside this service after it are not in the mirror yet; this service’s own writes are.',
      resolve: (d) => d.snapshot.asOf.toISOString(),
    }),
    refreshedIn: t.int({
      description: 'How long that read of the node took, in milliseconds.',
      resolve: (d) => Math.round(d.snapshot.refreshedIn),
    }),
    users: t.int({
      description: 'Users of the node, locked ones included.',
      resolve: (d) => counts(d.snapshot).users,
    }),
    lockedUsers: t.int({
      description: 'Locked users (`active: false`).',
      resolve: (d) => counts(d.snapshot).lockedUsers,
    }),
    teams: t.int({
      description: 'Teams of the node.',
      resolve: (d) => counts(d.snapshot).teams,
    }),
    roles: t.int({
      description: 'Roles of the node.',
      resolve: (d) => counts(d.snapshot).roles,
    }),
    changesCursor: t.string({
      description:
        'The change feed’s newest cursor: pass it as `after` to `directoryChanges` or `directoryChanged` to follow the changes from now on.',
      resolve: (d) => d.mirror.status().head,
    }),
    lastRefreshError: t.string({
      nullable: true,
      description:
        'Why the last background refresh failed, until one succeeds (the mirror then keeps its previous snapshot); null when the last one succeeded.',
      resolve: (d) => d.mirror.status().lastError?.message ?? null,
    }),
  }),
});

const ChangeType = builder.enumType('DirectoryChangeType', {
  description: 'What changed.',
  values: {
    USER_CREATED: { description: 'A user was created.' },
    USER_UPDATED: { description: 'Attributes of a user changed; `fields` names them.' },
    USER_LOCKED: { description: 'A user was locked (`active: false`).' },
    USER_UNLOCKED: { description: 'A locked user was unlocked.' },
    USER_REMOVED: { description: 'A user is no longer in the node; its memberships went with it.' },
    TEAM_CREATED: { description: 'A team was created.' },
    TEAM_RENAMED: { description: 'A team was renamed.' },
    TEAM_UPDATED: { description: 'The externalId of a team changed.' },
    TEAM_DELETED: { description: 'A team was deleted; its memberships went with it.' },
    ROLE_CREATED: { description: 'A role was created.' },
    ROLE_RENAMED: { description: 'A role was renamed.' },
    ROLE_UPDATED: { description: 'The externalId of a role changed.' },
    ROLE_DELETED: { description: 'A role was deleted; its memberships went with it.' },
    MEMBER_ADDED: {
      description: 'A user joined a team (`teamId`) or was given a role (`roleId`).',
    },
    MEMBER_REMOVED: { description: 'A user left a team or lost a role.' },
  } as const,
});

const ChangeSource = builder.enumType('DirectoryChangeSource', {
  description: 'Who made a change.',
  values: {
    THIS_SERVICE: { description: 'A mutation of this service (named in `mutation`).' },
    UPSTREAM: {
      description: 'Someone else (the Admin Console, an identity provider), seen by a refresh.',
    },
  } as const,
});

/** Team or role of a group event (from its type) or of a member event (from groupKind). */
const groupKindOf = (e: ChangeEvent) =>
  e.groupKind ?? (e.type.startsWith('TEAM_') ? 'TEAM' : e.type.startsWith('ROLE_') ? 'ROLE' : '');

const DirectoryChange = builder.objectRef<ChangeEvent>('DirectoryChange').implement({
  description: 'One change of the directory, in the order the mirror applied it.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', {
      description: 'Opaque; resume after this change with `directoryChanges(after:)`.',
    }),
    type: t.field({ type: ChangeType, description: 'What changed.', resolve: (e) => e.type }),
    time: t.exposeString('time', {
      description: 'When this service saw it: the write, or the read of the refresh (ISO 8601).',
    }),
    source: t.field({
      type: ChangeSource,
      description: 'Who made it.',
      resolve: (e) => e.source.kind,
    }),
    mutation: t.string({
      nullable: true,
      description: 'The mutation of this service that made it; null for UPSTREAM changes.',
      resolve: (e) => (e.source.kind === 'THIS_SERVICE' ? e.source.mutation : null),
    }),
    userId: t.id({
      nullable: true,
      description: 'Global id of the user, for user and member changes.',
      resolve: (e) => (e.userId ? encodeGlobalID('User', e.userId) : null),
    }),
    teamId: t.id({
      nullable: true,
      description: 'Global id of the team, for team changes and memberships of a team.',
      resolve: (e) =>
        e.groupId && groupKindOf(e) === 'TEAM' ? encodeGlobalID('Team', e.groupId) : null,
    }),
    roleId: t.id({
      nullable: true,
      description: 'Global id of the role, for role changes and memberships of a role.',
      resolve: (e) =>
        e.groupId && groupKindOf(e) === 'ROLE' ? encodeGlobalID('Role', e.groupId) : null,
    }),
    fields: t.stringList({
      nullable: true,
      description:
        'USER_UPDATED: the attributes that changed (`userName`, `displayName`, `givenName`, `familyName`, `email`, `externalId`); TEAM_UPDATED/ROLE_UPDATED: `externalId`.',
      resolve: (e) => e.fields ?? null,
    }),
  }),
});

type ChangesPage = { events: ChangeEvent[]; hasNextPage: boolean; endCursor: string };

const DirectoryChangeEdge = builder.objectRef<ChangeEvent>('DirectoryChangeEdge').implement({
  description: 'A change in a page, with its cursor.',
  fields: (t) => ({
    cursor: t.exposeString('cursor', { description: 'Opaque cursor of this change.' }),
    node: t.field({ type: DirectoryChange, description: 'The change.', resolve: (e) => e }),
  }),
});

const DirectoryChangeConnection = builder
  .objectRef<ChangesPage>('DirectoryChangeConnection')
  .implement({
    description:
      'Changes after a cursor, oldest first. Keep `endCursor` and ask again with it to resume; it is the cursor asked with when nothing changed.',
    fields: (t) => ({
      edges: t.field({
        type: [DirectoryChangeEdge],
        description: 'The changes of this page, with their cursors.',
        resolve: (p) => p.events,
      }),
      hasNextPage: t.exposeBoolean('hasNextPage', {
        description: 'Whether more changes follow this page (ask again with `endCursor`).',
      }),
      endCursor: t.exposeString('endCursor', { description: 'Where to resume.' }),
    }),
  });

builder.queryFields((t) => ({
  directory: t.field({
    type: Directory,
    ...requires('directory:read'),
    nullable: true,
    description:
      'The directory mirror: how fresh it is and what it holds. Null when MIRROR=off. Waits only for the first read of the node.',
    resolve: async (_root, _args, ctx) => {
      if (!ctx.mirror) return null;
      try {
        return { mirror: ctx.mirror, snapshot: await ctx.mirror.ready(ctx.request.signal) };
      } catch (error) {
        throw unavailable(error);
      }
    },
  }),
  directoryChanges: t.field({
    type: DirectoryChangeConnection,
    ...requires('directory:read'),
    description: `Changes of the directory after a cursor (from \`directory { changesCursor }\` or a previous page), oldest first, at most \`first\` (default 100, max ${MAX_PAGE_SIZE}). Without \`after\`, from the oldest change kept. A cursor older than CHANGES_RETENTION changes is refused with RESYNC_REQUIRED: read the directory again, then follow from its changesCursor.`,
    args: {
      after: t.arg.string({ required: false, description: 'Return changes after this cursor.' }),
      first: t.arg.int({
        required: false,
        description: `At most this many changes (default and max ${MAX_PAGE_SIZE}).`,
      }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? MAX_PAGE_SIZE;
      if (first < 0 || first > MAX_PAGE_SIZE) {
        throw badInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, 'first');
      }
      const mirror = mirrorOf(ctx);
      try {
        await mirror.ready(ctx.request.signal);
      } catch (error) {
        throw unavailable(error);
      }
      try {
        return await mirror.changesAfter(args.after ?? undefined, first);
      } catch (error) {
        if (error instanceof ChangesResyncError) throw resync(error);
        throw error;
      }
    },
  }),
}));

builder.subscriptionType({
  description:
    'Follow the directory as it changes (Server-Sent Events: `Accept: text/event-stream`).',
});

builder.subscriptionField('directoryChanged', (t) =>
  t.field({
    type: DirectoryChange,
    ...requires('directory:read'),
    description:
      'Each change of the directory as the mirror applies it: this service’s writes at once, other changes at the next refresh. With `after`, first the changes since that cursor (RESYNC_REQUIRED when it is older than the retention).',
    args: {
      after: t.arg.string({
        required: false,
        description: 'Replay the changes after this cursor first.',
      }),
    },
    subscribe: (_root, args, ctx) => follow(mirrorOf(ctx), args.after ?? undefined, ctx),
    resolve: (event) => event,
  }),
);

async function* follow(mirror: Mirror, after: string | undefined, ctx: Context) {
  try {
    await mirror.ready(ctx.request.signal);
  } catch (error) {
    throw unavailable(error);
  }
  try {
    yield* mirror.subscribe({ after, signal: ctx.request.signal });
  } catch (error) {
    if (error instanceof ChangesResyncError) throw resync(error);
    throw error;
  }
}
