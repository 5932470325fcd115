import type { AuditEvent } from '../audit.ts';
import { requires } from './access.ts';
import { builder } from './builder.ts';
import { badInput, MAX_PAGE_SIZE } from './connection.ts';

const AuditCaller = builder.objectRef<AuditEvent['caller']>('AuditCaller').implement({
  description: 'Who made the attempt.',
  fields: (t) => ({
    kind: t.exposeString('kind', {
      description:
        '`key` (an API key), `jwt` (an SSO token), `anonymous` (no caller check) or `unauthenticated` (refused with 401; `operation` is then the HTTP method and path).',
    }),
    name: t.exposeString('name', {
      description:
        "The key's name in API_KEYS_FILE, `key-<digest start>` for a plain key, or the JWT subject.",
    }),
  }),
});

const AuditUpstreamCall = builder
  .objectRef<AuditEvent['upstream'][number]>('AuditUpstreamCall')
  .implement({
    description: 'One SCIM request the operation made.',
    fields: (t) => ({
      method: t.exposeString('method', { description: 'HTTP method.' }),
      route: t.exposeString('route', { description: 'Route template, e.g. `/Users/{id}`.' }),
      status: t.exposeInt('status', { description: 'HTTP status; 0 when no answer arrived.' }),
    }),
  });

const AuditEventRef = builder.objectRef<AuditEvent>('AuditEvent').implement({
  description: 'One mutation, or one refused attempt, as the audit trail recorded it.',
  fields: (t) => ({
    id: t.exposeString('id', { description: 'The id of the event in the trail (a cursor).' }),
    time: t.exposeString('time', { description: 'When it ended (ISO 8601, UTC).' }),
    caller: t.field({ type: AuditCaller, description: 'Who.', resolve: (e) => e.caller }),
    requestId: t.exposeString('requestId', {
      description: 'The request id (`x-request-id`), as in the access log.',
    }),
    operation: t.exposeString('operation', {
      description: 'The field: `lockUser`, `createTeam`, … (or a query field refused).',
    }),
    input: t.string({
      description:
        'The input as JSON, with only the fields on the allow-list (ids, names, addresses, the idempotency key).',
      resolve: (e) => JSON.stringify(e.input),
    }),
    omittedInput: t.stringList({
      description: 'Input fields sent but not recorded (not on the allow-list).',
      resolve: (e) => e.omitted,
    }),
    upstream: t.field({
      type: [AuditUpstreamCall],
      description: 'The SCIM requests made, in order, with their statuses.',
      resolve: (e) => e.upstream,
    }),
    outcome: t.exposeString('outcome', {
      description:
        'The result typename (`LockUserPayload`, `NotFoundError`, …) or the error code (`FORBIDDEN`, `UPSTREAM_UNAVAILABLE`, …).',
    }),
    objectIds: t.stringList({
      description: 'Global ids of the objects the input named and the result returned.',
      resolve: (e) => e.objectIds,
    }),
    idempotencyKey: t.string({
      nullable: true,
      description: 'The idempotency key sent (`clientMutationId` or `Idempotency-Key`).',
      resolve: (e) => e.idempotencyKey,
    }),
  }),
});

const AuditEventEdge = builder
  .objectRef<{ cursor: string; node: AuditEvent }>('AuditEventEdge')
  .implement({
    description: 'An audit event with its cursor.',
    fields: (t) => ({
      cursor: t.exposeString('cursor', { description: 'Pass as `after` for the next page.' }),
      node: t.field({ type: AuditEventRef, description: 'The event.', resolve: (e) => e.node }),
    }),
  });

type AuditPage = { edges: { cursor: string; node: AuditEvent }[]; hasNextPage: boolean };

const AuditEventConnection = builder.objectRef<AuditPage>('AuditEventConnection').implement({
  description: 'A page of the audit trail, newest first.',
  fields: (t) => ({
    edges: t.field({
      type: [AuditEventEdge],
      description: 'The events of this page.',
      resolve: (p) => p.edges,
    }),
    hasNextPage: t.exposeBoolean('hasNextPage', { description: 'Whether older events follow.' }),
    endCursor: t.string({
      nullable: true,
      description: 'Cursor of the last (oldest) event of this page.',
      resolve: (p) => p.edges.at(-1)?.cursor ?? null,
    }),
  }),
});

const AuditFilter = builder.inputType('AuditEventFilter', {
  description: 'Conditions every event returned meets.',
  fields: (t) => ({
    caller: t.string({ required: false, description: 'The caller name.' }),
    operation: t.string({ required: false, description: 'The field, e.g. `lockUser`.' }),
    objectId: t.string({ required: false, description: 'A global id the event names.' }),
    since: t.string({
      required: false,
      description: 'Only events at or after this ISO 8601 time.',
    }),
  }),
});

builder.queryField('auditEvents', (t) =>
  t.field({
    type: AuditEventConnection,
    ...requires('admin'),
    description:
      'The audit trail: every mutation and every refused attempt, newest first, as kept by this service (AUDIT_CAPACITY events, none older than AUDIT_RETENTION seconds).',
    args: {
      first: t.arg.int({
        required: false,
        description: 'At most this many (default 20, max 100).',
      }),
      after: t.arg.string({ required: false, description: 'Events older than this cursor.' }),
      filter: t.arg({ type: AuditFilter, required: false, description: 'Conditions.' }),
    },
    resolve: async (_root, args, ctx) => {
      const first = args.first ?? 20;
      if (first < 0 || first > MAX_PAGE_SIZE) {
        throw badInput(`\`first\` must be 0 to ${MAX_PAGE_SIZE}`, 'first');
      }
      const since = args.filter?.since ? new Date(args.filter.since) : undefined;
      if (since && Number.isNaN(since.getTime())) {
        throw badInput('`filter.since` must be an ISO 8601 time', 'filter.since');
      }
      const page = await ctx.audit.store.list({
        first,
        after: args.after,
        filter: { ...args.filter, since },
      });
      return {
        edges: page.events.map((node) => ({ cursor: node.id, node })),
        hasNextPage: page.hasNextPage,
      };
    },
  }),
);
