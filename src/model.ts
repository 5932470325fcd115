import type { ScimGroup, ScimUser } from './scim/schemas.ts';

// What the GraphQL layer resolves from. A Keeper group is either a team or a role (docs/keeper-scim.md
// §7: a displayName with the node's role prefix makes Keeper create a role), so every group read
// from the upstream is classified exactly once, here, and the schema never sees a raw group.

export type UserModel = ScimUser;

export type TeamModel = { kind: 'Team'; group: ScimGroup; name: string };

export type RoleModel = { kind: 'Role'; group: ScimGroup; name: string };

export type GroupModel = TeamModel | RoleModel;

export const isTeam = (g: GroupModel): g is TeamModel => g.kind === 'Team';
export const isRole = (g: GroupModel): g is RoleModel => g.kind === 'Role';

export function classifyGroup(group: ScimGroup, rolePrefix: string): GroupModel {
  if (rolePrefix !== '' && group.displayName.startsWith(rolePrefix)) {
    return { kind: 'Role', group, name: group.displayName.slice(rolePrefix.length) };
  }
  return { kind: 'Team', group, name: group.displayName };
}

/** Keeper compares e-mail user names case-insensitively (docs/keeper-scim.md §7 "Uniqueness"). */
export const userNameKey = (userName: string) => userName.toLowerCase();
