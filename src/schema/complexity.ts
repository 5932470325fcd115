import {
  GraphQLError,
  type GraphQLField,
  getNamedType,
  getNullableType,
  isListType,
} from 'graphql';
import { DEFAULT_PAGE_SIZE } from './connection.ts';

// Query cost, for @pothos/plugin-complexity. A connection multiplies what is selected under it by
// the page size asked (`first`/`last`, else the default page of 20); its `edges` list adds no
// further factor. `nodes(ids)` multiplies by the number of ids. Other lists count 10.
// graphql-armor's cost limit was tried first and rejected: it weighs a field by its depth, not by
// page sizes, so it refused `users(first: 50) { … teams { … } }` while it would let
// `users(first: 100) { teams(first: 100) { edges { node { members(first: 100) … } } } }`
// (a million objects) through at a similar score.

/** Costs up to this are served: a 100-user page with 20 teams and roles each is ~13 000. */
export const MAX_COMPLEXITY = 50_000;
export const MAX_DEPTH = 14;
export const MAX_BREADTH = 300;

export function fieldComplexity<C>(
  args: Record<string, unknown>,
  _ctx: C,
  field: GraphQLField<unknown, C, Record<string, unknown>>,
) {
  if (getNamedType(field.type).name.endsWith('Connection')) {
    const size = Number(args.first ?? args.last ?? DEFAULT_PAGE_SIZE);
    return { field: 1, multiplier: Number.isFinite(size) ? Math.max(0, size) : DEFAULT_PAGE_SIZE };
  }
  if (field.name === 'edges') return { field: 0, multiplier: 1 };
  if (field.name === 'nodes' && Array.isArray(args.ids))
    return { field: 1, multiplier: args.ids.length };
  if (isListType(getNullableType(field.type))) return { field: 1, multiplier: 10 };
  return 1;
}

export function complexityError(
  kind: string,
  result: {
    complexity: number;
    depth: number;
    breadth: number;
    maxComplexity?: number;
    maxDepth?: number;
    maxBreadth?: number;
  },
) {
  const [value, max] =
    kind === 'Depth'
      ? [result.depth, result.maxDepth]
      : kind === 'Breadth'
        ? [result.breadth, result.maxBreadth]
        : [result.complexity, result.maxComplexity];
  return new GraphQLError(
    `This query's ${kind.toLowerCase()} is ${value}, above the limit of ${max}; ask for smaller pages (first/last) or fewer nested lists.`,
    { extensions: { code: 'QUERY_TOO_COMPLEX', kind: kind.toLowerCase(), value, max } },
  );
}
