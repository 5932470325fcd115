import { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLResolveInfo,
  type GraphQLSchema,
} from 'graphql';
import type { Scope } from '../config.ts';
import type { Context } from '../context.ts';

// Which scope each root field needs, and how a refusal looks. Every Query and Mutation field names
// exactly one scope with `requires` (the option of @pothos/plugin-scope-auth, which checks it before
// the resolver). The plugin's check runs after Pothos has decoded and validated the arguments,
// though: with the errors plugin's `unsafelyHandleInputErrors`, invalid input from a caller without
// the scope would answer InvalidInputError and tell it about the field. So `guardRootFields` also
// checks the scope first, around the whole built resolver, and appends the scope to the field's
// description (GraphiQL, introspection, schema.graphql).

/** Field options of a root field guarded by `scope`. */
export const requires = (scope: Scope) => ({ authScopes: { [scope]: true } }) as const;

/** The scope `requires` put on a built field, if any. */
export function requiredScope(field: { extensions?: unknown }): Scope | undefined {
  const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } } | undefined)
    ?.pothosOptions;
  const scopes = options?.authScopes;
  if (!scopes || typeof scopes !== 'object') return undefined;
  return Object.keys(scopes)[0] as Scope | undefined;
}

/**
 * Checks each root field's scope before anything else of the field runs, and appends "Needs the
 * `x` scope." to its description. A root field without a scope is a build error.
 */
export function guardRootFields(schema: GraphQLSchema): GraphQLSchema {
  for (const type of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const scope = requiredScope(field);
      if (!scope) throw new Error(`${type?.name}.${field.name} names no scope (requires(…))`);
      field.description = `${field.description ?? ''} Needs the \`${scope}\` scope.`;
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (parent, args, ctx: Context, info) => {
        if (!ctx.caller.scopes.has(scope)) throw forbidden(ctx, info, [scope]);
        return resolve(parent, args, ctx, info);
      };
    }
  }
  return schema;
}

/** The scopes named in scope-auth's failure tree. */
export function missingScopes(failure: AuthFailure): string[] {
  if (failure.kind === AuthScopeFailureType.AuthScope) return [failure.scope];
  if (
    failure.kind === AuthScopeFailureType.AllAuthScopes ||
    failure.kind === AuthScopeFailureType.AnyAuthScopes
  ) {
    return failure.failures.flatMap(missingScopes);
  }
  return [];
}

/** The FORBIDDEN error of a refused field: which scope is missing, and for whom. */
export function forbidden(ctx: Context, info: GraphQLResolveInfo, missing: string[]) {
  const scopes = [...new Set(missing)];
  const named = scopes.map((s) => `\`${s}\``).join(' or ');
  return new GraphQLError(
    `${info.parentType.name}.${info.fieldName} needs the ${named || 'right'} scope, which ${ctx.caller.kind === 'jwt' ? 'this token' : `the key "${ctx.caller.name}"`} does not have.`,
    { extensions: { code: 'FORBIDDEN', missingScopes: scopes } },
  );
}
