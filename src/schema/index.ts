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

/** The schema as printed to schema.graphql: sorted, so that diffs show real changes only. */
export const sortedSchema = lexicographicSortSchema(schema);
