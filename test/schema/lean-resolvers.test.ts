import { encodeGlobalID } from '@pothos/plugin-relay';
import { GraphQLObjectType, type GraphQLResolveInfo, type GraphQLSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { propertyRead } from '../../src/schema/lean-resolvers.ts';

const field = (s: GraphQLSchema, type: string, name: string) => {
  const t = s.getType(type);
  if (!(t instanceof GraphQLObjectType)) throw new Error(`${type} is not an object type`);
  const f = t.getFields()[name];
  if (!f) throw new Error(`${type}.${name} does not exist`);
  return f;
};

describe('resolvers that only read a property', () => {
  it('are recognised in the forms TypeScript and the compiled plugins write them', () => {
    // Built from source text, as tsc and Pothos' own build leave them.
    const make = (source: string) => new Function(`return ${source}`)();
    expect(propertyRead(make('(parent)=>parent.edges'))).toBe('edges');
    expect(propertyRead(make('(u) => u.userName'))).toBe('userName');
    expect(propertyRead(make('p => p.$node_1'))).toBe('$node_1');
  });

  it('are not confused with a resolver that does anything more', () => {
    const make = (source: string) => new Function(`return ${source}`)();
    for (const source of [
      '(u) => u.displayName ?? u.userName',
      '(u) => other.userName',
      '(u) => u.name.givenName',
      'async (u) => u.userName',
      '(u) => u.userName()',
      '(u, args) => args.userName',
      'function (u) { return u.userName; }',
    ]) {
      expect(propertyRead(make(source)), source).toBeUndefined();
    }
  });

  it("leave the schema's fields that read their own property without a resolver, and keep the others", () => {
    // Read inline by compiled execution: the relay plugin's edges/pageInfo/node, ours.
    for (const [type, name] of [
      ['UserConnection', 'edges'],
      ['UserConnection', 'pageInfo'],
      ['UserConnection', 'totalCount'],
      ['UserEdge', 'node'],
      ['TeamEdge', 'node'],
      ['User', 'userName'],
      ['User', 'active'],
    ] as const) {
      expect(field(schema, type, name).resolve, `${type}.${name}`).toBeUndefined();
    }
    // Computed, asynchronous or guarded: kept.
    for (const [type, name] of [
      ['User', 'displayName'],
      ['User', 'id'],
      ['User', 'keeperId'],
      ['User', 'teams'],
      ['Query', 'users'],
    ] as const) {
      expect(field(schema, type, name).resolve, `${type}.${name}`).toBeTypeOf('function');
    }
  });
});

describe('Node ids', () => {
  it('are answered at once (no promise), as the relay plugin encodes them', () => {
    const info = {} as GraphQLResolveInfo;
    for (const [type, parent, raw] of [
      ['User', { id: '1234567' }, '1234567'],
      ['Team', { kind: 'Team', group: { id: '987' }, name: 'Eng' }, '987'],
      ['Role', { kind: 'Role', group: { id: '654' }, name: 'Admins' }, '654'],
    ] as const) {
      const resolve = field(schema, type, 'id').resolve;
      if (!resolve) throw new Error(`${type}.id has no resolver`);
      const first = resolve(parent, {}, {}, info);
      expect(first, type).toBe(encodeGlobalID(type, raw));
      // Kept per object: the same string again.
      expect(resolve(parent, {}, {}, info)).toBe(first);
    }
  });
});
