import { requires } from './access.ts';
import { builder } from './builder.ts';
import { MAX_LENGTH, maxLength } from './connection.ts';
import { connectionOf, GroupOrder, MemberFilter } from './directory.ts';
import { findGroup, loadGroups } from './groups.ts';
import { NESTED, Role, RoleConnection, User, UserConnection } from './refs.ts';

builder.node(Role, {
  description:
    'A Keeper role, provisioned as a SCIM Group whose name starts with the role prefix (KEEPER_ROLE_PREFIX, `ROLE_` by default). Keeper ignores the SCIM `roles` attribute; this is how roles are assigned.',
  id: { resolve: (role) => role.group.id },
  loadMany: (ids, ctx) => loadGroups('Role', ids, ctx),
  fields: (t) => ({
    keeperId: t.string({
      description: "Keeper's id for the group behind this role (the SCIM Group id).",
      resolve: (role) => role.group.id,
    }),
    name: t.exposeString('name', { description: 'The role name, without the role prefix.' }),
    groupName: t.string({
      description: 'The SCIM Group displayName: the role name with the prefix.',
      resolve: (role) => role.group.displayName,
    }),
    externalId: t.string({
      nullable: true,
      description: "The identity provider's id for this role's group, when one was set.",
      resolve: (role) => role.group.externalId ?? null,
    }),
    members: t.connection(
      {
        type: User,
        nullable: true,
        description: NESTED('The users this role is assigned to.'),
        args: {
          filter: t.arg({
            type: MemberFilter,
            required: false,
            description: 'Conditions every member returned meets.',
          }),
        },
        resolve: (role, args, ctx) =>
          connectionOf(args, ctx.directory.membersOf(role, args.filter?.active)),
      },
      UserConnection,
    ),
  }),
});

builder.queryFields((t) => ({
  role: t.field({
    type: Role,
    ...requires('directory:read'),
    nullable: true,
    description:
      'One role, by exactly one of: global `id`, `keeperId` or `name` (with or without the prefix). Null when there is none.',
    args: {
      id: t.arg.globalID({ required: false, description: 'The global id of a Role.' }),
      keeperId: t.arg.string({
        required: false,
        description: "Keeper's id of the role's group: digits, unless KEEPER_ID_FORMAT=relaxed.",
      }),
      name: t.arg.string({
        required: false,
        description:
          'The role name, with or without the role prefix, compared without case; at most 256 characters. Several roles with the name: BAD_USER_INPUT listing their ids in `extensions.candidates`.',
        validate: maxLength(MAX_LENGTH.name),
      }),
    },
    resolve: (_root, args, ctx) => findGroup('Role', args, ctx),
  }),
  roles: t.connection(
    {
      type: Role,
      ...requires('directory:read'),
      description:
        "The node's roles, 20 per page by default and at most 100. With the directory mirror (MIRROR=on, the default) ordered by name (`orderBy`) with keyset cursors, in zero upstream calls; `@fresh` and `Cache-Control: no-cache` read the upstream instead, in its order.",
      args: {
        nameContains: t.arg.string({
          required: false,
          description: 'Case-insensitive text contained in the role name; at most 100 characters.',
          validate: maxLength(MAX_LENGTH.search),
        }),
        orderBy: t.arg({
          type: GroupOrder,
          required: false,
          description: 'The order (answered from the directory mirror).',
        }),
      },
      resolve: (_root, args, ctx) =>
        connectionOf(args, ctx.directory.roles(args.nameContains, args.orderBy)),
    },
    RoleConnection,
  ),
}));
