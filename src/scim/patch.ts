import { type PatchOperation, type PatchRequest, SCHEMA_PATCH } from './schemas.ts';

// PatchOp builders for what the facade sends (RFC 7644 §3.5.2). Each returns a list of
// operations so they compose: `patchRequest([...setActive(false), ...removeGroups([t])])`.
// Forms chosen for the widest acceptance (docs/keeper-scim.md §5):
// - attributes: one `replace` per attribute with an explicit `path`; Keeper documents
//   path-form replace of userName/displayName/externalId/name.* (§5 A), and every RFC server
//   takes it, unlike Keeper's own no-path dotted-key form (§5 B), which is non-standard;
// - lowercase `op` names (the RFC's spelling; Keeper and Entra accept any case);
// - `active` as a real JSON boolean (RFC 7643 §4.1.1), never Entra's "False";
// - membership as `add`/`remove` with a `value` array of `{ value: id }`: the form Keeper's docs
//   and clients and Entra use (§5 A–C), rather than a `members[value eq "…"]` filter path.

/** Attributes the facade replaces on a User (the subset Keeper documents, docs/keeper-scim.md §5 A). */
export type ReplaceableAttributes = {
  userName?: string;
  displayName?: string;
  externalId?: string | null;
  'name.givenName'?: string | null;
  'name.familyName'?: string | null;
};

// Fixed order, so a request body is deterministic for a given input.
const REPLACEABLE_PATHS = [
  'userName',
  'displayName',
  'externalId',
  'name.givenName',
  'name.familyName',
] as const satisfies readonly (keyof ReplaceableAttributes)[];

// userName and displayName are required / always present on Keeper's resources: clearing them is
// not something the facade offers.
const CLEARABLE = new Set<string>(['externalId', 'name.givenName', 'name.familyName']);

/**
 * One path-form `replace` per given attribute. `undefined` leaves an attribute alone; `null`
 * clears a clearable one with a path-form `remove` (RFC 7644 §3.5.2.2). Unknown keys throw a
 * TypeError (a typo must not be silently dropped). Also works for Groups with `displayName` and
 * `externalId`.
 */
export function replaceAttributes(attributes: ReplaceableAttributes): PatchOperation[] {
  const known = new Set<string>(REPLACEABLE_PATHS);
  for (const key of Object.keys(attributes)) {
    if (!known.has(key)) throw new TypeError(`Cannot replace attribute "${key}"`);
  }
  const ops: PatchOperation[] = [];
  for (const path of REPLACEABLE_PATHS) {
    const value = attributes[path];
    if (value === undefined) continue;
    if (value === null) {
      if (!CLEARABLE.has(path)) throw new TypeError(`Attribute "${path}" cannot be cleared`);
      ops.push({ op: 'remove', path });
    } else if (typeof value === 'string') {
      ops.push({ op: 'replace', path, value });
    } else {
      throw new TypeError(`Attribute "${path}" must be a string, got ${typeof value}`);
    }
  }
  return ops;
}

/** Lock (`false`) or unlock (`true`) a Keeper user (docs/keeper-scim.md §7 "Lock via active"). */
export function setActive(active: boolean): PatchOperation[] {
  if (typeof active !== 'boolean') {
    throw new TypeError(`active must be a boolean, got ${typeof active}`);
  }
  return [{ op: 'replace', path: 'active', value: active }];
}

/** Renames a Group (Keeper team or role). */
export function renameGroup(displayName: string): PatchOperation[] {
  if (typeof displayName !== 'string' || displayName.length === 0) {
    throw new TypeError('A group name must be a non-empty string');
  }
  return [{ op: 'replace', path: 'displayName', value: displayName }];
}

function idValues(ids: readonly string[]): { value: string }[] {
  const unique = [...new Set(ids)];
  for (const id of unique) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError('Member and group ids must be non-empty strings');
    }
  }
  return unique.map((value) => ({ value }));
}

// An empty id list yields no operation at all: `remove` with an empty value array would, on a
// server that ignores `value`, mean "remove every member" (RFC 7644 §3.5.2.2).
function multiValued(op: 'add' | 'remove', path: string, ids: readonly string[]) {
  const value = idValues(ids);
  return value.length === 0 ? [] : [{ op, path, value } satisfies PatchOperation];
}

/** Adds users to a Group (`members`). */
export const addMembers = (userIds: readonly string[]): PatchOperation[] =>
  multiValued('add', 'members', userIds);

/** Removes users from a Group (`members`), by value array (Keeper/Entra form). */
export const removeMembers = (userIds: readonly string[]): PatchOperation[] =>
  multiValued('remove', 'members', userIds);

/** Adds a User to teams through `User.groups` (a Keeper extension, docs/keeper-scim.md §5 A). */
export const addGroups = (groupIds: readonly string[]): PatchOperation[] =>
  multiValued('add', 'groups', groupIds);

/** Removes a User from teams through `User.groups`. */
export const removeGroups = (groupIds: readonly string[]): PatchOperation[] =>
  multiValued('remove', 'groups', groupIds);

/**
 * The PatchOp message (RFC 7644 §3.5.2). Throws a RangeError when there is no operation: the
 * RFC requires "one or more", and an empty PATCH is a caller bug.
 */
export function patchRequest(operations: readonly PatchOperation[]): PatchRequest {
  if (operations.length === 0) throw new RangeError('A PATCH needs at least one operation');
  return { schemas: [SCHEMA_PATCH], Operations: [...operations] };
}
