import { defineGroupCreate, defineGroupDelete, defineMemberChange } from './group-mutations.ts';
import { checkRoleName } from './mutation.ts';

// Keeper roles over SCIM are Groups whose displayName starts with the node's role prefix
// (docs/keeper-scim.md §7): callers name roles without it, the directory adds it.

defineGroupCreate({
  kind: 'Role',
  description:
    'Creates a role (`POST /Groups` with the role prefix added to the name), with its first members in the same call. Never creates a role twice: when the answer is lost, it is looked up by externalId and name first.',
  input: 'A role to create, optionally with the users to assign it to.',
  fields: {
    name: 'The role name WITHOUT the role prefix; the facade adds it (`Auditors` → `ROLE_Auditors`).',
    externalId:
      "The identity provider's id for the role's group. When left out, a UUID is generated (see CreateTeamInput.externalId).",
    memberIds: 'Global ids of users to assign the role to in the same call.',
    allowDuplicateName:
      'Create even when another role has this name (compared without case). Keeper allows it; an upstream with unique names still answers NameAlreadyInUseError. Default false: a taken name is NameAlreadyInUseError and nothing is written.',
  },
  checkName: checkRoleName,
  payload: 'The role as Keeper stored it.',
});

defineGroupDelete({
  kind: 'Role',
  description:
    'Deletes a role (`DELETE /Groups/{id}`); its users keep their other roles and teams. Roles created outside SCIM (without externalId) are refused with UnmanagedGroupError.',
  keeperId: "Keeper's id of the role's group.",
});

defineMemberChange({
  kind: 'Role',
  name: 'assignRole',
  adds: true,
  description:
    'Assigns a role to users with one `PATCH /Groups/{id}` (`add` `members`), however many. Safe to retry.',
  input: 'A role and the users to assign it to.',
  userIds: 'Global ids of the users; ones that already have the role are left as they are.',
});

defineMemberChange({
  kind: 'Role',
  name: 'unassignRole',
  adds: false,
  description:
    'Takes a role from users with one `PATCH /Groups/{id}` (`remove` `members` by value). Safe to retry.',
  input: 'A role and the users to take it from.',
  userIds: 'Global ids of the users; ones without the role are ignored.',
});
