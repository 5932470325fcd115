import { brandWithType } from '@pothos/core';
import type { RoleModel, TeamModel, UserModel } from '../model.ts';
import { builder } from './builder.ts';

// The node refs and their connection types, declared apart from their implementations so that
// user.ts, team.ts and role.ts can refer to each other (a user's teams, a team's members)
// without an import cycle. One connection type per node type, shared by every list of it.
export const User = builder.objectRef<UserModel>('User');
export const Team = builder.objectRef<TeamModel>('Team');
export const Role = builder.objectRef<RoleModel>('Role');

export const UserConnection = builder.connectionObject(
  {
    type: User,
    name: 'UserConnection',
    description: 'A page of users, with the size of the whole list.',
  },
  { name: 'UserEdge', description: 'A user in a page, with its cursor.' },
);
export const TeamConnection = builder.connectionObject(
  {
    type: Team,
    name: 'TeamConnection',
    description: 'A page of teams, with the size of the whole list.',
  },
  { name: 'TeamEdge', description: 'A team in a page, with its cursor.' },
);
export const RoleConnection = builder.connectionObject(
  {
    type: Role,
    name: 'RoleConnection',
    description: 'A page of roles, with the size of the whole list.',
  },
  { name: 'RoleEdge', description: 'A role in a page, with its cursor.' },
);

/**
 * Description of a list nested in an object. Nullable so that a failed read of it (an upstream
 * error) is an error at its own path and leaves the object, and a mutation payload that returns
 * it, intact: the write it reports was applied whatever its nested lists say.
 */
export const NESTED = (description: string) =>
  `${description} Null, with an error at this path, when it could not be read; in a mutation payload that still means the write was applied.`;

/**
 * Marks loaded objects with their GraphQL type, for `node`/`nodes`. The relay plugin brands them
 * only after its own batch settles, so a second alias of the same id (answered from the plugin's
 * per-request cache) could reach the Node type resolver first and fail with "Abstract type Node
 * must resolve to an Object type"; branding where they are loaded closes that window.
 */
export function branded<T>(typename: 'User' | 'Team' | 'Role', objects: T[]): T[] {
  // The type name, as the relay plugin brands with it: the brand is a read-only property, so a
  // second branding must carry the same value.
  const brand = typename as unknown as Parameters<typeof brandWithType>[1];
  for (const object of objects) if (object) brandWithType(object, brand);
  return objects;
}
