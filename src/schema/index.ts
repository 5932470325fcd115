import './user.ts';
import './team.ts';
import './role.ts';
import './upstream.ts';
import './errors.ts';
import './user-mutations.ts';
import './team-mutations.ts';
import './role-mutations.ts';
import './audit.ts';
import './directory.ts';
import { RequestCache } from '@pothos/plugin-scope-auth';
import { lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { guardRootFields } from './access.ts';
import { builder } from './builder.ts';
import { freshDirective } from './directory.ts';
import { dropPropertyResolvers, syncNodeIds } from './lean-resolvers.ts';

export const schema = guardRootFields(
  syncNodeIds(
    dropPropertyResolvers(
      builder.toSchema({ sortSchema: false, directives: [...specifiedDirectives, freshDirective] }),
    ),
  ),
);

/**
 * Called once an execution has finished (never while a result is still streaming: the scopes
 * granted to a parent field are read from this cache by its children). Scope auth keeps what it
 * decided per context in a WeakMap whose value holds the context. V8's young-generation GC treats a
 * WeakMap's values as strong, so until the entry is deleted it keeps the context, and through it
 * every object of the request, alive into the old generation (about 10 KB per request, then a
 * mark-compact to collect it).
 */
export function executionFinished(context: object): void {
  RequestCache.clearForContext(context);
}

/** The schema as printed to schema.graphql: sorted, so that diffs show real changes only. */
export const sortedSchema = lexicographicSortSchema(schema);
