import type { GraphQLResolveInfo } from 'graphql';
import type { Context } from '../context.ts';
import type { UserKey } from '../directory/directory.ts';
import type { UserModel } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { badInput, MAX_LENGTH, maxLength, resolveOffsetConnection } from './connection.ts';
import { connectionOf, OrderDirection } from './directory.ts';
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
import { selectsField } from './selection.ts';

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
  loadMany: async (ids, ctx: Context) => branded('User', await ctx.directory.usersById(ids)),
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
        resolve: (u, args, ctx) => resolveOffsetConnection(args, ctx.directory.groupsOf('Team', u)),
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
        resolve: (u, args, ctx) => resolveOffsetConnection(args, ctx.directory.groupsOf('Role', u)),
      },
      RoleConnection,
    ),
  }),
});

const UserFilter = builder.inputType('UserFilter', {
  description:
    'Narrows `users`. `userName` and `externalId` are asked upstream as exact `eq` filters (always fresh). The other conditions are answered from the directory mirror (MIRROR=on, the default) in zero upstream calls; on a fresh read (MIRROR=off, `@fresh`, `Cache-Control: no-cache`) `active` and `search` are applied over one scan of the node (at most UPSTREAM_SCAN_LIMIT users; beyond it SCAN_LIMIT_EXCEEDED rather than a partial answer), and `teamId`, `roleId`, `externalIdPresent` are refused. All given conditions must hold.',
  fields: (t) => ({
    teamId: t.globalID({
      required: false,
      description: 'Only members of this team (its global id). Answered from the directory mirror.',
    }),
    roleId: t.globalID({
      required: false,
      description: 'Only users with this role (its global id). Answered from the directory mirror.',
    }),
    externalIdPresent: t.boolean({
      required: false,
      description:
        'Only users with (true) or without (false) an externalId. Answered from the directory mirror.',
    }),
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

const UserOrderField = builder.enumType('UserOrderField', {
  description: 'What users are ordered by (without case; ties by id).',
  values: {
    USER_NAME: { description: 'The userName (e-mail address).' },
    DISPLAY_NAME: { description: 'The displayName, or the userName when there is none.' },
    FAMILY_NAME: { description: 'The family name; users without one come first.' },
  } as const,
});

const UserOrder = builder.inputType('UserOrder', {
  description:
    'The order of `users`, answered from the directory mirror, with keyset cursors: users created or locked between two pages are never skipped nor repeated.',
  fields: (t) => ({
    field: t.field({ type: UserOrderField, required: true, description: 'What to order by.' }),
    direction: t.field({
      type: OrderDirection,
      required: false,
      defaultValue: 'ASC',
      description: 'Ascending (default) or descending.',
    }),
  }),
});

/** The keeper id of a team or role filter, refused when it names the other kind. */
function groupFilter(
  id: { typename: string; id: string } | null | undefined,
  typename: 'Team' | 'Role',
  argument: string,
): string | undefined {
  if (!id) return undefined;
  if (id.typename !== typename)
    throw badInput(`${argument} must be the global id of a ${typename}`, argument);
  return id.id;
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
      ctx.directory.findUser(userKey(args, ctx), groupsAhead(info)),
  }),
  users: t.connection(
    {
      type: User,
      ...requires('directory:read'),
      description:
        "The users of the node, 20 per page by default and at most 100; `totalCount` counts the whole (filtered) list. With the directory mirror (MIRROR=on, the default) ordered by userName unless `orderBy` says otherwise, with keyset cursors, in zero upstream calls, as fresh as `directory { asOf }` plus this service's own writes; `userName`/`externalId` filters, `@fresh` and `Cache-Control: no-cache` read the upstream instead, in Keeper's order.",
      args: {
        filter: t.arg({
          type: UserFilter,
          required: false,
          description: 'Conditions every user returned meets.',
        }),
        orderBy: t.arg({
          type: UserOrder,
          required: false,
          description: 'The order (answered from the directory mirror).',
        }),
      },
      resolve: (_root, args, ctx, info) => {
        const filter = args.filter ?? {};
        const query = {
          filter: {
            ...filter,
            teamId: groupFilter(filter.teamId, 'Team', 'filter.teamId'),
            roleId: groupFilter(filter.roleId, 'Role', 'filter.roleId'),
          },
          orderBy: args.orderBy,
        };
        return connectionOf(args, ctx.directory.users(query, groupsAhead(info)));
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

/** Teams and roles come from the Groups snapshot: read it alongside the users when selected. */
const groupsAhead = (info: GraphQLResolveInfo) =>
  selectsField(info, ['teams', 'roles']) ? ('groups' as const) : undefined;

/** The one lookup the arguments give; throws on bad arguments, before any upstream read. */
function userKey(args: UserLookupArgs, ctx: Context): UserKey | null {
  const given = (['id', 'keeperId', 'userName', 'externalId'] as const).filter(
    (k) => args[k] != null,
  );
  if (given.length !== 1) {
    throw badInput('Give exactly one of `id`, `keeperId`, `userName` or `externalId`');
  }
  if (args.id) return args.id.typename === 'User' ? { id: args.id.id } : null;
  if (args.keeperId != null) {
    checkKeeperId(ctx, 'User', args.keeperId, 'keeperId');
    return { id: args.keeperId };
  }
  if (args.userName != null) return { userName: args.userName };
  return { externalId: args.externalId as string };
}
