import SchemaBuilder, { type SchemaTypes } from '@pothos/core';
import { type ComplexityResult, PothosComplexityPlugin } from '@pothos/plugin-complexity';
import {
  GraphQLError,
  type GraphQLField,
  type GraphQLResolveInfo,
  getNamedType,
  getNullableType,
  isListType,
  type OperationDefinitionNode,
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

// ---- the same plugin, with its result kept per document -----------------------------------------
// @pothos/plugin-complexity walks the whole operation once per request (about 0.2 ms for the page
// of 50 users with teams and roles; README, Benchmark). The walk reads only the operation, its
// fragments, the variables and the schema (fieldComplexity above ignores the context), and Yoga's
// parse cache hands back the same operation node for the same text, so its result is kept per
// operation node of this schema (weakly: it goes when the parse cache drops the document) and, for
// an operation with variables, per variable values, at most VARIABLE_SETS_PER_OPERATION of them.
// The plugin's check, its limits and its errors are the plugin's own: only the walk is skipped.

const VARIABLE_SETS_PER_OPERATION = 32;

class CachedComplexityPlugin<Types extends SchemaTypes> extends PothosComplexityPlugin<Types> {
  constructor(...args: ConstructorParameters<typeof PothosComplexityPlugin<Types>>) {
    super(...args);
    const walk = this.complexityCache;
    const byOperation = new WeakMap<OperationDefinitionNode, Map<string, ComplexityResult>>();
    this.complexityCache = Object.assign(
      (ctx: Types['Context'], info: GraphQLResolveInfo) => {
        const { operation } = info;
        const key = operation.variableDefinitions?.length
          ? JSON.stringify(info.variableValues)
          : '';
        let known = byOperation.get(operation);
        const cached = known?.get(key);
        if (cached) return cached;
        const result = walk(ctx, info);
        if (!known) {
          known = new Map();
          byOperation.set(operation, known);
        }
        if (known.size >= VARIABLE_SETS_PER_OPERATION)
          known.delete(known.keys().next().value ?? '');
        known.set(key, result);
        return result;
      },
      { delete: walk.delete },
    );
  }
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      cachedComplexity: CachedComplexityPlugin<Types>;
    }
  }
}

/** The plugin's name, for the builder's `plugins` list (in place of @pothos/plugin-complexity's). */
export const cachedComplexityPlugin = 'cachedComplexity' as const;
SchemaBuilder.registerPlugin(cachedComplexityPlugin, CachedComplexityPlugin);
