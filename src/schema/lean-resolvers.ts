import { encodeGlobalID } from '@pothos/plugin-relay';
import {
  type GraphQLFieldResolver,
  type GraphQLSchema,
  isInterfaceType,
  isObjectType,
} from 'graphql';

// Two changes to the built schema that keep every answer the same and make the hot path cheaper.
//
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

type Resolver = GraphQLFieldResolver<unknown, unknown>;

/**
 * Makes the `id` field of every Node type (User, Team, Role) answer at once. The relay plugin's
 * `id` resolver is an async function (its id option may return a promise): one promise per
 * object of the answer, and a base64 encoding each time. Where the type's id option returns a
 * plain value, its global id is encoded without a promise, once per object (the directory
 * mirror hands out the same objects to every request); anything else goes to the plugin's own.
 */
export function syncNodeIds(schema: GraphQLSchema): GraphQLSchema {
  const node = schema.getType('Node');
  if (!isInterfaceType(node)) return schema;
  for (const type of schema.getImplementations(node).objects) {
    const field = type.getFields().id;
    const options = type.extensions.pothosOptions as { id?: { resolve?: Resolver } } | undefined;
    const idOf = options?.id?.resolve;
    const original = field?.resolve;
    // Only the plugin's own resolver, unwrapped by any other plugin, is replaced.
    if (!field || !idOf || !original || field.extensions.pothosResolveWrapped !== false) continue;
    const encoded = new WeakMap<object, string>();
    field.resolve = (parent, args, context, info) => {
      if (typeof parent !== 'object' || parent === null)
        return original(parent, args, context, info);
      const known = encoded.get(parent);
      if (known !== undefined) return known;
      const raw = idOf(parent, args, context, info);
      if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'bigint') {
        return original(parent, args, context, info);
      }
      const id = encodeGlobalID(type.name, String(raw));
      encoded.set(parent, id);
      return id;
    };
  }
  return schema;
}
