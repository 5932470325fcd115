import { groupKey } from '../loaders.ts';
import { isRole } from '../model.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import {
  arraySource,
  badInput,
  MAX_LENGTH,
  maxLength,
  pickOneByName,
  resolveOffsetConnection,
} from './connection.ts';
import { checkKeeperId } from './ids.ts';
import { resolveMembers } from './members.ts';
import { branded, NESTED, Role, RoleConnection, User, UserConnection } from './refs.ts';

builder.node(Role, {
  description:
    'A Keeper role, provisioned as a SCIM Group whose name starts with the role prefix (KEEPER_ROLE_PREFIX, `ROLE_` by default). Keeper ignores the SCIM `roles` attribute; this is how roles are assigned.',
  id: { resolve: (role) => role.group.id },
  loadMany: async (ids, ctx) => {
    const snapshot = await ctx.loaders.groupSnapshot();
    return branded(
      'Role',
      ids.map((id) => {
        const group = snapshot.byId.get(id);
        return group?.kind === 'Role' ? group : null;
      }),
    );
  },
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
        resolve: (role, args, ctx) => resolveMembers(role, args, ctx),
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
    resolve: async (_root, args, ctx) => {
      const given = (['id', 'keeperId', 'name'] as const).filter((k) => args[k] != null);
      if (given.length !== 1) throw badInput('Give exactly one of `id`, `keeperId` or `name`');
      const prefix = ctx.upstream.rolePrefix;
      if (args.name != null) {
        const groupName = args.name.startsWith(prefix) ? args.name : `${prefix}${args.name}`;
        const found = await ctx.loaders.groupsWhere.load(groupKey('displayName', groupName));
        return pickOneByName(found.filter(isRole), args.name);
      }
      if (args.keeperId != null) checkKeeperId(ctx, 'Role', args.keeperId, 'keeperId');
      const keeperId = args.id ? (args.id.typename === 'Role' ? args.id.id : null) : args.keeperId;
      if (keeperId == null) return null;
      const group = (await ctx.loaders.groupSnapshot()).byId.get(keeperId);
      return group && isRole(group) ? group : null;
    },
  }),
  roles: t.connection(
    {
      type: Role,
      ...requires('directory:read'),
      description:
        "The node's roles, in the upstream's order, 20 per page by default and at most 100.",
      args: {
        nameContains: t.arg.string({
          required: false,
          description: 'Case-insensitive text contained in the role name; at most 100 characters.',
          validate: maxLength(MAX_LENGTH.search),
        }),
      },
      resolve: async (_root, args, ctx) => {
        const { roles } = await ctx.loaders.groupSnapshot();
        const needle = args.nameContains?.toLowerCase();
        const list =
          needle === undefined ? roles : roles.filter((r) => r.name.toLowerCase().includes(needle));
        return resolveOffsetConnection(args, arraySource(list));
      },
    },
    RoleConnection,
  ),
}));
