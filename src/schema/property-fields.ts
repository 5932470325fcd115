import { type GraphQLFieldResolver, type GraphQLSchema, isObjectType } from 'graphql';

// graphql-jit (src/execution.ts) reads a field that has no resolver inline, as a property of its
// parent; a field with one it calls through a closure, a resolve info and a try/catch, for every
// object of the answer. Pothos leaves exposed fields (`t.exposeString`) without a resolver, but the
// relay plugin gives its `edges`, `pageInfo` and `node` fields resolvers that only read that
// property, and so do a few of ours. A page of 50 users with their teams and roles resolves some
// 800 fields, most of them such reads.

/** `(parent) => parent.name`, as written or compiled, and nothing more. */
const PROPERTY_READ = /^\(?\s*([A-Za-z_$][\w$]*)\s*\)?\s*=>\s*\1\.([A-Za-z_$][\w$]*)\s*$/;

/**
 * The name of the property a resolver reads, when all it does is `(parent) => parent.property`;
 * undefined for anything else (a default, a call, a promise).
 */
export function propertyRead(resolve: GraphQLFieldResolver<unknown, unknown>): string | undefined {
  return PROPERTY_READ.exec(Function.prototype.toString.call(resolve))?.[2];
}

/**
 * Removes the resolver of every object field whose resolver only reads the parent's property of
 * the field's own name: graphql-js's default resolver then does the same read (graphql-jit
 * inlines it). A resolver a plugin wrapped (scope checks, errors, validation) is a different
 * function and stays.
 */
export function dropPropertyResolvers(schema: GraphQLSchema): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      if (field.resolve && propertyRead(field.resolve) === field.name) field.resolve = undefined;
    }
  }
  return schema;
}
