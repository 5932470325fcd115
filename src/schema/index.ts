import './user.ts';
import './team.ts';
import './role.ts';
import './upstream.ts';
import './errors.ts';
import './user-mutations.ts';
import './team-mutations.ts';
import './role-mutations.ts';
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';

export const schema = builder.toSchema({ sortSchema: false });

/** The schema as printed to schema.graphql: sorted, so that diffs show real changes only. */
export const sortedSchema = lexicographicSortSchema(schema);
