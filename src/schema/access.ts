import { encodeGlobalID } from '@pothos/plugin-relay';
import { type AuthFailure, AuthScopeFailureType } from '@pothos/plugin-scope-auth';
import {
  defaultFieldResolver,
  GraphQLError,
  type GraphQLFieldResolver,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getNullableType,
  isUnionType,
} from 'graphql';
import { filterInput } from '../audit.ts';
import type { Scope } from '../config.ts';
import type { Context } from '../context.ts';
import { maskError } from '../errors.ts';
import { requestId } from '../request-scope.ts';

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
  const subscription = schema.getSubscriptionType();
  for (const type of [schema.getQueryType(), schema.getMutationType(), subscription]) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const scope = requiredScope(field);
      if (!scope) throw new Error(`${type?.name}.${field.name} names no scope (requires(…))`);
      field.description = `${field.description ?? ''} Needs the \`${scope}\` scope.`;
      const guard =
        (run: GraphQLFieldResolver<unknown, Context>): GraphQLFieldResolver<unknown, Context> =>
        (parent, args, ctx, info) => {
          if (!ctx.caller.scopes.has(scope)) {
            const error = forbidden(ctx, info, [scope]);
            audit(ctx, info, args, ctx.stats.calls.length, { error });
            throw error;
          }
          return run(parent, args, ctx, info);
        };
      const guarded = guard(
        (field.resolve ?? defaultFieldResolver) as GraphQLFieldResolver<unknown, Context>,
      );
      field.resolve = type === schema.getMutationType() ? auditedMutation(guarded) : guarded;
      // A subscription runs `subscribe` first, once; `resolve` then maps each event.
      if (type === subscription && field.subscribe) {
        field.subscribe = guard(field.subscribe as GraphQLFieldResolver<unknown, Context>);
      }
    }
  }
  return schema;
}

/** Records one audit event for every call of a mutation field, however it ends. */
function auditedMutation(
  resolve: GraphQLFieldResolver<unknown, Context>,
): GraphQLFieldResolver<unknown, Context> {
  return async (parent, args, ctx, info) => {
    // Mutation fields run one after another, so the calls after this index are this field's.
    const start = ctx.stats.calls.length;
    let result: unknown;
    try {
      result = await resolve(parent, args, ctx, info);
    } catch (error) {
      if (!(error instanceof GraphQLError && error.extensions.code === 'FORBIDDEN')) {
        audit(ctx, info, args, start, { error });
      }
      throw error;
    }
    const returnType = getNullableType(info.returnType);
    const typename = isUnionType(returnType)
      ? await returnType.resolveType?.(result, ctx, info, returnType)
      : returnType.toString();
    audit(ctx, info, args, start, { result, typename: String(typename) });
    return result;
  };
}

const GLOBAL_ID_INPUTS = ['id', 'teamId', 'roleId', 'userIds', 'teamIds', 'roleIds'];
const PAYLOAD_OBJECTS = { user: 'User', team: 'Team', role: 'Role' } as const;

function audit(
  ctx: Context,
  info: GraphQLResolveInfo,
  args: Record<string, unknown>,
  start: number,
  end: { error: unknown } | { result: unknown; typename: string },
): void {
  const input = (args.input ?? {}) as Record<string, unknown>;
  const ids = new Set<string>();
  for (const name of GLOBAL_ID_INPUTS) {
    for (const id of [input[name]].flat()) if (typeof id === 'string') ids.add(id);
  }
  if ('result' in end && end.result && typeof end.result === 'object') {
    for (const [key, typename] of Object.entries(PAYLOAD_OBJECTS)) {
      const object = (end.result as Record<string, { id?: unknown } | undefined>)[key];
      if (typeof object?.id === 'string') ids.add(encodeGlobalID(typename, object.id));
    }
  }
  const outcome =
    'typename' in end ? end.typename : String(maskError(end.error).extensions.code ?? 'ERROR');
  const event = {
    time: new Date().toISOString(),
    caller: { kind: ctx.caller.kind, name: ctx.caller.name },
    requestId: requestId(ctx.request),
    operation: info.fieldName,
    ...filterInput(args.input),
    upstream: ctx.stats.calls
      .slice(start)
      .map(({ method, route, status }) => ({ method, route, status })),
    outcome,
    objectIds: [...ids],
    idempotencyKey:
      (typeof input.clientMutationId === 'string' ? input.clientMutationId : null) ??
      ctx.request.headers.get('idempotency-key'),
  };
  // The answer does not wait for the store; a store failure is logged, never the caller's.
  void ctx.audit.store
    .append(event)
    .then(ctx.audit.sink, () => ctx.audit.sink({ id: '', ...event }));
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
