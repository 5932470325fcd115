import { requires } from './access.ts';
import { builder } from './builder.ts';
import { MAX_LENGTH, maxLength } from './connection.ts';
import { connectionOf, GroupOrder, MemberFilter } from './directory.ts';
import { findGroup, loadGroups } from './groups.ts';
import { NESTED, Team, TeamConnection, User, UserConnection } from './refs.ts';
import { selectsField } from './selection.ts';

builder.node(Team, {
  description:
    'A Keeper team of the connected node (a SCIM Group whose name does not start with the role prefix). Teams created over SCIM stay queued in Keeper until an admin or Keeper Automator approves them.',
  id: { resolve: (team) => team.group.id },
  loadMany: (ids, ctx) => loadGroups('Team', ids, ctx),
  fields: (t) => ({
    keeperId: t.string({
      description: "Keeper's id for this team (the SCIM Group id, a 22-character team UID).",
      resolve: (team) => team.group.id,
    }),
    name: t.exposeString('name', { description: 'The team name.' }),
    externalId: t.string({
      nullable: true,
      description:
        "The identity provider's id for this team. Teams made outside SCIM (in the Admin Console) have none.",
      resolve: (team) => team.group.externalId ?? null,
    }),
    members: t.connection(
      {
        type: User,
        nullable: true,
        description: NESTED('The users in this team, pending approvals included.'),
        args: {
          filter: t.arg({
            type: MemberFilter,
            required: false,
            description: 'Conditions every member returned meets.',
          }),
        },
        resolve: (team, args, ctx) =>
          connectionOf(args, ctx.directory.membersOf(team, args.filter?.active)),
      },
      UserConnection,
    ),
  }),
});

const TeamFilter = builder.inputType('TeamFilter', {
  description:
    "Narrows `teams`; every given condition must hold. `name` or `externalId` is asked upstream as an escaped `eq` filter; otherwise the node's complete list of groups is filtered, so the answer is always exact.",
  fields: (t) => ({
    name: t.string({
      required: false,
      description:
        'This team name (compared without case, as SCIM does); asked upstream. At most 256 characters.',
      validate: maxLength(MAX_LENGTH.name),
    }),
    nameContains: t.string({
      required: false,
      description: 'Case-insensitive text contained in the name; at most 100 characters.',
      validate: maxLength(MAX_LENGTH.search),
    }),
    externalId: t.string({
      required: false,
      description: 'Exactly this externalId; asked upstream. At most 256 characters.',
      validate: maxLength(MAX_LENGTH.externalId),
    }),
  }),
});

builder.queryFields((t) => ({
  team: t.field({
    type: Team,
    ...requires('directory:read'),
    nullable: true,
    description:
      'One team, by exactly one of: global `id`, `keeperId` or `name`. Null when there is none.',
    args: {
      id: t.arg.globalID({ required: false, description: 'The global id of a Team.' }),
      keeperId: t.arg.string({
        required: false,
        description:
          "Keeper's team UID (the SCIM Group id): base64url, unless KEEPER_ID_FORMAT=relaxed.",
      }),
      name: t.arg.string({
        required: false,
        description:
          'The team name, compared without case as SCIM does. Asked upstream as `displayName eq` with the name as given (on an upstream other than Keeper that compares with case, a miss is looked for among all groups). Several teams with the name: BAD_USER_INPUT listing their ids in `extensions.candidates`. At most 256 characters.',
        validate: maxLength(MAX_LENGTH.name),
      }),
    },
    resolve: (_root, args, ctx) => findGroup('Team', args, ctx),
  }),
  teams: t.connection(
    {
      type: Team,
      ...requires('directory:read'),
      description:
        "The node's teams (never roles), 20 per page by default and at most 100. With the directory mirror (MIRROR=on, the default) ordered by name (`orderBy`) with keyset cursors, in zero upstream calls; an exact `name`/`externalId` filter, `@fresh` and `Cache-Control: no-cache` read the upstream instead, in its order.",
      args: {
        filter: t.arg({
          type: TeamFilter,
          required: false,
          description: 'Conditions every team returned meets.',
        }),
        orderBy: t.arg({
          type: GroupOrder,
          required: false,
          description: 'The order (answered from the directory mirror).',
        }),
      },
      resolve: (_root, args, ctx, info) =>
        connectionOf(
          args,
          // Without Group.members, membership comes from the user scan: read it meanwhile.
          ctx.directory.teams(
            args.filter ?? {},
            args.orderBy,
            selectsField(info, ['members']) ? 'membership' : undefined,
          ),
        ),
    },
    TeamConnection,
  ),
}));
