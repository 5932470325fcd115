import type { Context } from '../context.ts';
import { isRole, isTeam, type UserModel, userNameKey } from '../model.ts';
import { userEq } from '../scim/filter.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import {
  arraySource,
  badInput,
  MAX_LENGTH,
  maxLength,
  type OffsetSource,
  resolveOffsetConnection,
} from './connection.ts';
import { checkKeeperId } from './ids.ts';
import {
  branded,
  NESTED,
  Role,
  RoleConnection,
  Team,
  TeamConnection,
  User,
  UserConnection,
} from './refs.ts';
import { alongside, selectsField } from './selection.ts';

const Email = builder.objectRef<UserModel['emails'][number]>('Email').implement({
  description: 'An e-mail address of a user. Keeper derives it from the userName.',
  fields: (t) => ({
    value: t.string({ description: 'The address.', resolve: (e) => e.value }),
    type: t.string({
      nullable: true,
      description: 'Its kind as SCIM labels it (`work`, `home`, `other`), when the upstream says.',
      resolve: (e) => e.type ?? null,
    }),
    primary: t.boolean({
      description: 'Whether this is the primary address.',
      resolve: (e) => e.primary === true,
    }),
  }),
});

builder.node(User, {
  description:
    'A Keeper user of the connected node. Keeper never deletes users over SCIM: a deprovisioned user stays listed with `active: false` (locked).',
  id: { resolve: (u) => u.id },
  loadMany: async (ids, ctx: Context) =>
    branded('User', await Promise.all(ids.map((id) => ctx.loaders.userById.load(id)))),
  fields: (t) => ({
    keeperId: t.string({
      description: "Keeper's id for this user (the SCIM `id`, Keeper's enterprise user id).",
      resolve: (u) => u.id,
    }),
    userName: t.string({
      description:
        'The e-mail address the user signs in with; unique in Keeper, case-insensitively.',
      resolve: (u) => u.userName,
    }),
    displayName: t.string({
      description: "The user's full name as Keeper shows it; Keeper defaults it to the userName.",
      resolve: (u) => u.displayName ?? u.userName,
    }),
    givenName: t.string({
      nullable: true,
      description:
        'Given name, when set. Keeper stores it but does not show it in the Admin Console.',
      resolve: (u) => u.name?.givenName ?? null,
    }),
    familyName: t.string({
      nullable: true,
      description:
        'Family name, when set. Keeper stores it but does not show it in the Admin Console.',
      resolve: (u) => u.name?.familyName ?? null,
    }),
    emails: t.field({
      type: [Email],
      description: "The user's e-mail addresses.",
      resolve: (u) => u.emails,
    }),
    externalId: t.string({
      nullable: true,
      description: "The identity provider's id for this user, when one was set.",
      resolve: (u) => u.externalId ?? null,
    }),
    active: t.boolean({
      description:
        'False when the user is locked in Keeper (by `lockUser`, `deprovisionUser` or an admin).',
      resolve: (u) => u.active,
    }),
    teams: t.connection(
      {
        type: Team,
        nullable: true,
        description: NESTED(
          'The teams of this node the user belongs to. Teams outside the node are not shown.',
        ),
        resolve: async (u, args, ctx) => {
          const groups = await ctx.loaders.groupsOfUser(u);
          return resolveOffsetConnection(args, arraySource(groups.filter(isTeam)));
        },
      },
      TeamConnection,
    ),
    roles: t.connection(
      {
        type: Role,
        nullable: true,
        description: NESTED(
          'The roles (groups named with the role prefix) of this node assigned to the user.',
        ),
        resolve: async (u, args, ctx) => {
          const groups = await ctx.loaders.groupsOfUser(u);
          return resolveOffsetConnection(args, arraySource(groups.filter(isRole)));
        },
      },
      RoleConnection,
    ),
  }),
});

const UserFilter = builder.inputType('UserFilter', {
  description:
    'Narrows `users`. `userName` and `externalId` are asked upstream as exact `eq` filters. `active` and `search` cannot be asked of Keeper, so they are applied over one scan of the node (at most UPSTREAM_SCAN_LIMIT users; beyond it the query fails with SCAN_LIMIT_EXCEEDED rather than answer partially). All given conditions must hold.',
  fields: (t) => ({
    userName: t.string({
      required: false,
      description: 'Exactly this userName (case-insensitive); at most 254 characters.',
      validate: maxLength(MAX_LENGTH.email),
    }),
    externalId: t.string({
      required: false,
      description: 'Exactly this externalId (case-sensitive); at most 256 characters.',
      validate: maxLength(MAX_LENGTH.externalId),
    }),
    active: t.boolean({
      required: false,
      description: 'Only active (true) or only locked (false) users.',
    }),
    search: t.string({
      required: false,
      description:
        'Case-insensitive text contained in the userName, displayName, given or family name; at most 100 characters.',
      validate: maxLength(MAX_LENGTH.search),
    }),
  }),
});

type UserFilterArgs = {
  userName?: string | null;
  externalId?: string | null;
  active?: boolean | null;
  search?: string | null;
};

function clientSideMatch(filter: UserFilterArgs) {
  const needle = filter.search?.toLowerCase();
  return (u: UserModel) =>
    (filter.active == null || u.active === filter.active) &&
    (filter.userName == null || userNameKey(u.userName) === userNameKey(filter.userName)) &&
    (filter.externalId == null || u.externalId === filter.externalId) &&
    (needle === undefined ||
      [u.userName, u.displayName, u.name?.givenName, u.name?.familyName].some((s) =>
        s?.toLowerCase().includes(needle),
      ));
}

/** Where a page of `users` comes from: upstream paging, an exact upstream filter, or the scan. */
function usersSource(ctx: Context, filter: UserFilterArgs): OffsetSource<UserModel> {
  const matches = clientSideMatch(filter);
  if (filter.userName != null) {
    const exact = ctx.loaders.userByUserName.load(filter.userName);
    return lazyArray(async () =>
      [await exact].filter((u): u is UserModel => u !== null && matches(u)),
    );
  }
  if (filter.externalId != null) {
    const { externalId } = filter;
    return lazyArray(async () => {
      const { Resources } = await ctx.scim.users.listAll(
        { filter: userEq('externalId', externalId) },
        ctx.call,
      );
      ctx.loaders.prime(Resources);
      return Resources.filter(matches);
    });
  }
  if (filter.active != null || filter.search != null) {
    return lazyArray(async () => (await ctx.loaders.allUsers()).filter(matches));
  }
  return {
    async page(offset, limit) {
      if (ctx.loaders.hasScanned()) {
        const all = await ctx.loaders.allUsers();
        return { items: all.slice(offset, offset + limit), totalCount: all.length };
      }
      const page = await ctx.scim.users.list({ startIndex: offset + 1, count: limit }, ctx.call);
      ctx.upstream.observeUserCount(page.totalResults);
      // Keeper may answer a startIndex past the end with the first page again (docs/design.md).
      const items = offset >= page.totalResults ? [] : page.Resources.slice(0, limit);
      ctx.loaders.prime(items);
      return { items, totalCount: page.totalResults };
    },
    async count() {
      const page = await ctx.scim.users.list({ startIndex: 1, count: 1 }, ctx.call);
      ctx.loaders.prime(page.Resources);
      return page.totalResults;
    },
  };
}

function lazyArray<T>(load: () => Promise<T[]>): OffsetSource<T> {
  let list: Promise<T[]> | undefined;
  const get = () => {
    list ??= load();
    return list;
  };
  return {
    page: async (offset, limit) => arraySource(await get()).page(offset, limit),
    count: async () => (await get()).length,
  };
}

builder.queryFields((t) => ({
  user: t.field({
    type: User,
    ...requires('directory:read'),
    nullable: true,
    description:
      'One user, by exactly one of: global `id`, `keeperId`, `userName` (case-insensitive) or `externalId`. Null when there is none.',
    args: {
      id: t.arg.globalID({ required: false, description: 'The global id of a User.' }),
      keeperId: t.arg.string({
        required: false,
        description: "Keeper's id (the SCIM id): digits, unless KEEPER_ID_FORMAT=relaxed.",
      }),
      userName: t.arg.string({
        required: false,
        description: 'The e-mail address the user signs in with; at most 254 characters.',
        validate: maxLength(MAX_LENGTH.email),
      }),
      externalId: t.arg.string({
        required: false,
        description: "The identity provider's id; at most 256 characters.",
        validate: maxLength(MAX_LENGTH.externalId),
      }),
    },
    resolve: (_root, args, ctx, info) =>
      alongside(
        findUser(args, ctx),
        selectsField(info, ['teams', 'roles']) && ctx.loaders.groupSnapshot(),
      ),
  }),
  users: t.connection(
    {
      type: User,
      ...requires('directory:read'),
      description:
        "The users of the node, in Keeper's order, 20 per page by default and at most 100. `totalCount` counts the whole (filtered) list.",
      args: {
        filter: t.arg({
          type: UserFilter,
          required: false,
          description: 'Conditions every user returned meets.',
        }),
      },
      resolve: (_root, args, ctx, info) => {
        // Teams and roles come from the Groups snapshot: read it alongside the users page.
        return alongside(
          resolveOffsetConnection(args, usersSource(ctx, args.filter ?? {})),
          selectsField(info, ['teams', 'roles']) && ctx.loaders.groupSnapshot(),
        );
      },
    },
    UserConnection,
  ),
}));

type UserLookupArgs = {
  id?: { typename: string; id: string } | null;
  keeperId?: string | null;
  userName?: string | null;
  externalId?: string | null;
};

/** Throws at once on bad arguments, before any upstream read starts. */
function findUser(args: UserLookupArgs, ctx: Context): Promise<UserModel | null> {
  const given = (['id', 'keeperId', 'userName', 'externalId'] as const).filter(
    (k) => args[k] != null,
  );
  if (given.length !== 1) {
    throw badInput('Give exactly one of `id`, `keeperId`, `userName` or `externalId`');
  }
  if (args.id) {
    if (args.id.typename !== 'User') return Promise.resolve(null);
    return ctx.loaders.userById.load(args.id.id);
  }
  if (args.keeperId != null) {
    checkKeeperId(ctx, 'User', args.keeperId, 'keeperId');
    return ctx.loaders.userById.load(args.keeperId);
  }
  if (args.userName != null) return ctx.loaders.userByUserName.load(args.userName);
  return ctx.loaders.userByExternalId.load(args.externalId as string);
}
