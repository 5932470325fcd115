import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import ValidationPlugin from '@pothos/plugin-validation';
import type { Scope } from '../config.ts';
import type { Context } from '../context.ts';
import { forbidden, missingScopes, requires } from './access.ts';
import {
  cachedComplexityPlugin,
  complexityError,
  fieldComplexity,
  MAX_BREADTH,
  MAX_COMPLEXITY,
  MAX_DEPTH,
} from './complexity.ts';
import { decodeNodeId } from './ids.ts';

// Plugin order is a decision: lifecycle hooks run in REVERSE order, and the
// errors plugin must wrap validation so that a failed zod check on a mutation input becomes the
// typed `InvalidInputError` result instead of a top-level error. Batching is done by our own
// per-request DataLoaders (src/directory/reads/), not plugin-dataloader: the batch strategy
// (or-filter, parallel GETs or one paged scan) is chosen per batch by counting upstream calls,
// which the plugin's one-function-per-type model cannot express. The complexity plugin refuses queries whose
// page sizes multiply into too much work before any resolver runs; it is registered as
// `cachedComplexity`, which keeps its result per document (see complexity.ts). Scope auth
// comes first so that its check wraps every other plugin's resolver wrapper.
export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: Record<Scope, boolean>;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Connection: { totalCount: number };
}>({
  plugins: [ScopeAuthPlugin, ErrorsPlugin, ValidationPlugin, RelayPlugin, cachedComplexityPlugin],
  scopeAuth: {
    authScopes: (ctx) => ({
      'directory:read': ctx.caller.scopes.has('directory:read'),
      'directory:write': ctx.caller.scopes.has('directory:write'),
      'users:lifecycle': ctx.caller.scopes.has('users:lifecycle'),
      admin: ctx.caller.scopes.has('admin'),
    }),
    unauthorizedError: (_parent, ctx, info, result) =>
      forbidden(ctx, info, missingScopes(result.failure)),
  },
  complexity: {
    fieldComplexity,
    complexityError,
    limit: { complexity: MAX_COMPLEXITY, depth: MAX_DEPTH, breadth: MAX_BREADTH },
  },
  defaultFieldNullability: false,
  relay: {
    // Checks the shape of every decoded id before it can reach an upstream URL (ids.ts).
    decodeGlobalID: decodeNodeId,
    clientMutationId: 'omit',
    cursorType: 'String',
    nodeFieldOptions: { nullable: false, description: 'The object at this edge.' },
    nodeTypeOptions: { description: 'An object with a globally unique, opaque `id`.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
    nodeQueryOptions: {
      ...requires('directory:read'),
      description: 'Any User, Team or Role by its global id; null when it no longer exists.',
      args: { id: { description: 'A global id, as returned in any `id` field.' } },
    },
    nodesQueryOptions: {
      ...requires('directory:read'),
      args: { ids: { description: 'Global ids, as returned in any `id` field.' } },
      description:
        'Any Users, Teams and Roles by global id, in the order asked, batched upstream; null for each id that does not exist.',
    },
    idFieldOptions: { description: 'Opaque global id; use it with `node` and `nodes`.' },
    cursorFieldOptions: { description: 'Opaque cursor of this edge, for `after` and `before`.' },
    edgesFieldOptions: {
      description: 'The objects of this page, with their cursors.',
      nullable: false,
    },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    hasNextPageFieldOptions: { description: 'Whether more objects follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether objects precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first object of this page.' },
    endCursorFieldOptions: { description: 'Cursor of the last object of this page.' },
    firstArgOptions: {
      description: 'Page forward: at most this many objects (default 20, max 100).',
    },
    lastArgOptions: { description: 'Page backward: at most this many objects (max 100).' },
    afterArgOptions: { description: 'Return objects after this cursor.' },
    beforeArgOptions: { description: 'Return objects before this cursor.' },
  },
  // Lets a failed zod check (or a malformed global id) of a mutation input reach the field's
  // error union as InvalidInputError. The docs' caveat is that this runs before auth hooks: root
  // fields are therefore also guarded before argument mapping (guardRootFields in access.ts).
  errors: { defaultTypes: [], unsafelyHandleInputErrors: true },
  validation: {},
});

builder.queryType({ description: 'Read the users, teams and roles of the connected Keeper node.' });

builder.mutationType({
  description:
    'Write users, teams and roles of the connected Keeper node. Every mutation answers a typed result (a union of its payload and the `Error` types it can meet), accepts an idempotency key (`clientMutationId` or the `Idempotency-Key` header), and makes one SCIM write where one suffices.',
});

builder.globalConnectionField('totalCount', (t) =>
  t.int({
    description: 'How many objects the whole list holds, across all pages.',
    resolve: (parent) => parent.totalCount,
  }),
);
