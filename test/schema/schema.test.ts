import { readFileSync } from 'node:fs';
import {
  type GraphQLField,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isUnionType,
  printSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { sortedSchema } from '../../src/schema/index.ts';

describe('schema', () => {
  it('matches the committed schema.graphql (run `npm run schema` after changing src/schema)', () => {
    const committed = readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(`${printSchema(sortedSchema)}\n`);
  });

  it('describes every type, field, argument, input field and enum value', () => {
    const missing: string[] = [];
    const own = Object.values(sortedSchema.getTypeMap()).filter(
      (t: GraphQLNamedType) =>
        !t.name.startsWith('__') && !['String', 'Boolean', 'Int', 'Float', 'ID'].includes(t.name),
    );
    for (const type of own) {
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type)) {
        for (const field of Object.values(type.getFields()) as GraphQLField<unknown, unknown>[]) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of field.args) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          if (!value.description) missing.push(`${type.name}.${value.name}`);
        }
      }
      if (isUnionType(type) && !type.description) missing.push(type.name);
    }
    expect(missing).toEqual([]);
  });

  it('keeps the names clients depend on', () => {
    const user = sortedSchema.getType('User');
    const team = sortedSchema.getType('Team');
    const role = sortedSchema.getType('Role');
    if (!isObjectType(user) || !isObjectType(team) || !isObjectType(role))
      throw new Error('missing node types');
    for (const t of [user, team, role]) {
      expect(t.getInterfaces().map((i) => i.name)).toContain('Node');
      expect(Object.keys(t.getFields())).toContain('keeperId');
    }
    expect(Object.keys(user.getFields())).toEqual(
      expect.arrayContaining([
        'userName',
        'displayName',
        'givenName',
        'familyName',
        'emails',
        'externalId',
        'active',
        'teams',
        'roles',
      ]),
    );
    expect(Object.keys(team.getFields())).toEqual(
      expect.arrayContaining(['name', 'externalId', 'members']),
    );
    expect(Object.keys(role.getFields())).toEqual(expect.arrayContaining(['name', 'members']));
    const query = sortedSchema.getQueryType();
    expect(Object.keys(query?.getFields() ?? {})).toEqual(
      expect.arrayContaining([
        'node',
        'nodes',
        'user',
        'users',
        'team',
        'teams',
        'role',
        'roles',
        'upstream',
      ]),
    );
  });
});
