import { encodeGlobalID } from '@pothos/plugin-relay';
import { DirectiveLocation, GraphQLDirective, GraphQLError } from 'graphql';
import {
  type ChangeEvent,
  type Listing,
  type MirrorState,
  MirrorUnavailableError,
  type Page,
} from '../directory/lists.ts';
import { InvalidArgumentError, ResyncRequiredError } from '../directory/outcomes.ts';
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
// (Server-Sent Events, Yoga's transport). Null / refused when MIRROR=off. Also the mapping of
// the directory's lists (src/directory/lists.ts: mirror or upstream, decided there) to
// connections, and the directory's refusals to GraphQL errors.

const unavailable = (error: unknown) =>
  new GraphQLError(
    'The directory mirror has no snapshot: its first read of the node failed; retry later.',
    { extensions: { code: 'UPSTREAM_UNAVAILABLE' }, originalError: error as Error },
  );

/** `@fresh` on a query: nothing in its answer comes from the mirror (as `Cache-Control: no-cache`). */
export const freshDirective = new GraphQLDirective({
  name: 'fresh',
  description:
    'Answer this whole query with fresh reads of the upstream, not from the directory mirror (like the `Cache-Control: no-cache` header). Lists that only the mirror can answer (`orderBy`, `teamId`, `roleId`, `externalIdPresent`) are then refused.',
  locations: [DirectiveLocation.QUERY],
});

/** A refusal of the directory as the caller sees it (BAD_USER_INPUT, UPSTREAM_UNAVAILABLE). */
function asGraphQLError(error: unknown): unknown {
  if (error instanceof InvalidArgumentError) return badInput(error.message, error.argument);
  if (error instanceof MirrorUnavailableError) return unavailable(error.cause);
  if (error instanceof ResyncRequiredError) {
    return new GraphQLError(error.message, { extensions: { code: 'RESYNC_REQUIRED' } });
  }
  return error;
}

/**
 * A list the directory answered, as a Relay connection: keyset pages of the mirror (page size
 * checked first, `totalCount` counted only when selected) or offset pages of the upstream.
 */
export async function connectionOf<T>(
  args: ConnectionArgs,
  listing: Promise<Listing<T>>,
): Promise<Connection<T>> {
  let list: Listing<T>;
  try {
    list = await listing;
  } catch (error) {
    throw asGraphQLError(error);
  }
  if ('offset' in list) return resolveOffsetConnection(args, list.offset);
  validatePageSize(args);
  let page: Page<T>;
  try {
    page = list.keyset({
      first: args.first ?? undefined,
      after: args.after ?? undefined,
      last: args.last ?? undefined,
      before: args.before ?? undefined,
    });
  } catch (error) {
    throw asGraphQLError(error);
  }
  return new KeysetConnection(page);
}

/** A keyset page as a connection; `totalCount` counted when the field is read. */
class KeysetConnection<T> implements Connection<T> {
  readonly edges: Page<T>['edges'];
  readonly pageInfo: Page<T>['pageInfo'];
  readonly #page: Page<T>;
  constructor(page: Page<T>) {
    this.edges = page.edges;
    this.pageInfo = page.pageInfo;
    this.#page = page;
  }
  get totalCount(): number {
    return this.#page.totalCount();
  }
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

const Directory = builder.objectRef<MirrorState>('Directory').implement({
  description:
    'The directory mirror: one copy of the node kept by this service, refreshed every MIRROR_REFRESH_SECONDS and updated at once by its own mutations.',
  fields: (t) => ({
    asOf: t.string({
      description:
        'When the upstream read behind the mirror started (ISO 8601). Changes made outside this service after it are not in the mirror yet; this service’s own writes are.',
      resolve: (d) => d.asOf.toISOString(),
    }),
    refreshedIn: t.int({
      description: 'How long that read of the node took, in milliseconds.',
      resolve: (d) => Math.round(d.refreshedIn),
    }),
    users: t.int({
      description: 'Users of the node, locked ones included.',
      resolve: (d) => d.counts().users,
    }),
    lockedUsers: t.int({
      description: 'Locked users (`active: false`).',
      resolve: (d) => d.counts().lockedUsers,
    }),
    teams: t.int({
      description: 'Teams of the node.',
      resolve: (d) => d.counts().teams,
    }),
    roles: t.int({
      description: 'Roles of the node.',
      resolve: (d) => d.counts().roles,
    }),
    changesCursor: t.string({
      description:
        'The change feed’s newest cursor: pass it as `after` to `directoryChanges` or `directoryChanged` to follow the changes from now on.',
      resolve: (d) => d.status().head,
    }),
    lastRefreshError: t.string({
      nullable: true,
      description:
        'Why the last background refresh failed, until one succeeds (the mirror then keeps its previous snapshot); null when the last one succeeded.',
      resolve: (d) => d.status().lastError?.message ?? null,
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
      try {
        return await ctx.directory.mirrorState();
      } catch (error) {
        throw asGraphQLError(error);
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
      try {
        return await ctx.directory.changesAfter(args.after ?? undefined, first);
      } catch (error) {
        throw asGraphQLError(error);
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
    subscribe: (_root, args, ctx) => {
      try {
        return refusalsMapped(ctx.directory.followChanges(args.after ?? undefined));
      } catch (error) {
        throw asGraphQLError(error);
      }
    },
    resolve: (event) => event,
  }),
);

async function* refusalsMapped<T>(events: AsyncGenerator<T, void, undefined>) {
  try {
    yield* events;
  } catch (error) {
    throw asGraphQLError(error);
  }
}
