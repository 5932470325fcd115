import type { Context } from '../context.ts';
import type { Capabilities, UpstreamInfo } from '../upstream.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';

const UpstreamCapabilities = builder.objectRef<Capabilities>('UpstreamCapabilities').implement({
  description:
    'What the facade relies on from the upstream beyond plain `attr eq "value"` filters, and how it knows.',
  fields: (t) => ({
    orFilters: t.exposeBoolean('orFilters', {
      description:
        'Whether the upstream answers `or` filters, so that batches of lookups take one call per chunk. Keeper does not promise it.',
    }),
    orFiltersSource: t.string({
      description:
        'How `orFilters` was decided: `config` (KEEPER_FILTER_OR), `probe` (at start-up) or `default`.',
      resolve: (c) => c.source.orFilters,
    }),
    groupMembers: t.exposeString('groupMembers', {
      description:
        'Whether Group resources carry `members` (`include`), do not (`omit`; membership is then read from users), or not yet seen (`unknown`).',
    }),
    groupMembersSource: t.string({
      description:
        'How `groupMembers` was decided: `config` (KEEPER_GROUP_MEMBERS), `observed` or `default`.',
      resolve: (c) => c.source.groupMembers,
    }),
    userGroupsOnCreate: t.exposeString('userGroupsOnCreate', {
      description:
        'Whether `groups` in a `POST /Users` body makes the memberships: `applied` (Keeper), `ignored` (RFC 7643 makes User.groups read-only; the facade then adds the user with one `PATCH /Groups/{id}` per group), or `unknown` until the first createUser with teams or roles shows it.',
    }),
    userDelete: t.exposeString('userDelete', {
      description:
        'What `DELETE /Users/{id}` does: `locks` (Keeper), `deletes` (RFC 7644), or `unknown` until the first deprovisionUser shows it.',
    }),
  }),
});

/** In production the upstream's address is shown only to callers that presented an API key. */
const addressShown = (ctx: Context) => !ctx.production || ctx.caller.kind !== 'anonymous';

const Upstream = builder.objectRef<UpstreamInfo>('Upstream').implement({
  description: 'The SCIM upstream this facade serves: a Keeper node, or the embedded emulator.',
  fields: (t) => ({
    baseUrl: t.string({
      nullable: true,
      description:
        'The SCIM base URL, including the node id; null in production for callers without an API key. The token is never shown.',
      resolve: (u, _args, ctx) => (addressShown(ctx) ? u.baseUrl : null),
    }),
    nodeId: t.string({
      nullable: true,
      description:
        'The Keeper node id, read from the base URL; null like `baseUrl` for callers without an API key in production.',
      resolve: (u, _args, ctx) => (addressShown(ctx) ? (u.nodeId ?? null) : null),
    }),
    kind: t.exposeString('kind', {
      description:
        '`keeper` for Keeper (and the embedded emulator), `scim` for another SCIM 2.0 server; set by SCIM_UPSTREAM_KIND, by default from the host. Messages name Keeper only for `keeper`.',
    }),
    emulated: t.exposeBoolean('emulated', {
      description:
        'True when this is the embedded emulator with demo data, not a real Keeper node.',
    }),
    rolePrefix: t.exposeString('rolePrefix', {
      description: 'Groups whose name starts with this are Keeper roles, not teams.',
    }),
    userCount: t.int({
      nullable: true,
      description: 'Users in the node, as of the latest unfiltered list the facade read.',
      resolve: (u) => u.userCountHint ?? null,
    }),
    capabilities: t.field({
      type: UpstreamCapabilities,
      description: 'What the facade relies on from this upstream.',
      resolve: (u) => u.capabilities,
    }),
  }),
});

builder.queryField('upstream', (t) =>
  t.field({
    type: Upstream,
    ...requires('admin'),
    description:
      'The connected Keeper node (or emulator) and what the facade knows of its SCIM capabilities.',
    resolve: async (_root, _args, ctx) => {
      await ctx.upstream.ensureProbed(ctx.call.signal);
      return ctx.upstream;
    },
  }),
);
