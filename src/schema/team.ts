import type { TeamModel } from '../model.ts';
import { builder } from './builder.ts';
import { arraySource, badInput, resolveOffsetConnection } from './connection.ts';
import { resolveMembers } from './members.ts';
import { Team, TeamConnection, User, UserConnection } from './refs.ts';
import { alongside, selectsField } from './selection.ts';

builder.node(Team, {
  description:
    'A Keeper team of the connected node (a SCIM Group whose name does not start with the role prefix). Teams created over SCIM stay queued in Keeper until an admin or Keeper Automator approves them.',
  id: { resolve: (team) => team.group.id },
  loadMany: async (ids, ctx) => {
    const snapshot = await ctx.loaders.groupSnapshot();
    return ids.map((id) => {
      const group = snapshot.byId.get(id);
      return group?.kind === 'Team' ? group : null;
    });
  },
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
        description: 'The users in this team, pending approvals included.',
        resolve: (team, args, ctx) => resolveMembers(team, args, ctx),
      },
      UserConnection,
    ),
  }),
});

const TeamFilter = builder.inputType('TeamFilter', {
  description: "Narrows `teams`. Applied to the node's complete list of groups, so always exact.",
  fields: (t) => ({
    name: t.string({ required: false, description: 'Exactly this team name.' }),
    nameContains: t.string({
      required: false,
      description: 'Case-insensitive text contained in the name.',
    }),
    externalId: t.string({ required: false, description: 'Exactly this externalId.' }),
  }),
});

builder.queryFields((t) => ({
  team: t.field({
    type: Team,
    nullable: true,
    description:
      'One team, by exactly one of: global `id`, `keeperId` or exact `name`. Null when there is none.',
    args: {
      id: t.arg.globalID({ required: false, description: 'The global id of a Team.' }),
      keeperId: t.arg.string({
        required: false,
        description: "Keeper's team UID (the SCIM Group id).",
      }),
      name: t.arg.string({ required: false, description: 'The exact team name.' }),
    },
    resolve: async (_root, args, ctx) => {
      const given = (['id', 'keeperId', 'name'] as const).filter((k) => args[k] != null);
      if (given.length !== 1) throw badInput('Give exactly one of `id`, `keeperId` or `name`');
      const snapshot = await ctx.loaders.groupSnapshot();
      if (args.id)
        return args.id.typename === 'Team'
          ? findTeam(snapshot.teams, (g) => g.group.id === args.id?.id)
          : null;
      if (args.keeperId != null)
        return findTeam(snapshot.teams, (g) => g.group.id === args.keeperId);
      return findTeam(snapshot.teams, (g) => g.name === args.name);
    },
  }),
  teams: t.connection(
    {
      type: Team,
      description:
        "The node's teams (never roles), in the upstream's order, 20 per page by default and at most 100.",
      args: {
        filter: t.arg({
          type: TeamFilter,
          required: false,
          description: 'Conditions every team returned meets.',
        }),
      },
      resolve: async (_root, args, ctx, info) => {
        // Without Group.members, membership comes from the user scan: read it with the groups.
        const { teams } = await alongside(
          ctx.loaders.groupSnapshot(),
          ctx.upstream.capabilities.groupMembers === 'omit' &&
            selectsField(info, ['members']) &&
            ctx.loaders.allUsers(),
        );
        const f = args.filter;
        const needle = f?.nameContains?.toLowerCase();
        const list = teams.filter(
          (g) =>
            (f?.name == null || g.name === f.name) &&
            (f?.externalId == null || g.group.externalId === f.externalId) &&
            (needle === undefined || g.name.toLowerCase().includes(needle)),
        );
        return resolveOffsetConnection(args, arraySource(list));
      },
    },
    TeamConnection,
  ),
}));

const findTeam = (teams: TeamModel[], match: (t: TeamModel) => boolean) =>
  teams.find(match) ?? null;
