import {
  ScimError as ScimPatchError,
  type ScimPatchOperation,
  type ScimResource,
  scimPatch,
} from 'scim-patch';
import { badRequest, EmulatorError } from './errors.ts';
import { type CompiledFilter, compileValueFilter } from './filter.ts';
import { canonicalKeys, coerceActive, requireSchema } from './resources.ts';
import type { EmulatorStore, GroupRecord, UserFields, UserName, UserRecord } from './store.ts';
import { SCHEMA_GROUP, SCHEMA_PATCH, SCHEMA_USER } from './urns.ts';

// PATCH (RFC 7644 §3.5.2) in every dialect Keeper receives (docs/keeper-scim.md §5 A–E), in three steps:
//
// 1. Normalise each operation into a canonical RFC op: `op` in any case; a no-path add/replace
//    is split into one op per key, so dotted keys (`"name.givenName"`, Keeper's own clients) and
//    URN-prefixed keys become paths; attribute names are matched case-insensitively (RFC 7643
//    §2.1); enterprise-extension and unknown attributes are dropped silently (Keeper ignores them,
//    docs/keeper-scim.md §2.1); `id` inside a value is ignored when it equals the resource id (Okta)
//    and refused with 400 mutability otherwise.
// 2. Apply attribute ops with scim-patch on a deep clone (mutateDocument: false). Tested: it gets
//    value-filter paths (`emails[type eq "work"].value`), no-path replace with dotted and URN keys,
//    nested `name.*` and add to multi-valued right. What it gets wrong is kept out of its way:
//    attribute names are case-sensitive there (we canonicalise first), it only knows `Add`/`add`
//    spellings of `op` (we lower-case), it keeps unknown attributes (we project the result back onto
//    Keeper's writable attributes) and it cannot coerce `"False"` (we coerce afterwards).
// 3. Membership (`groups` on a User, `members` on a Group) is NOT given to scim-patch: it is a
//    working copy of the member id list, edited op by op (add, remove by value array, remove by
//    `members[value eq "…"]`, bare remove = all, replace = exact set) and checked against the store.
//
// Nothing touches the store until every op has been applied to the copies and the result has been
// validated; the commit itself is synchronous. A failing op therefore leaves the resource and all
// memberships exactly as they were (RFC 7644 §3.5.2: "the operations are applied atomically").

type Target = 'User' | 'Group';

type AttributeOp = {
  kind: 'attribute';
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
};
type MembershipOp = {
  kind: 'membership';
  op: 'add' | 'replace' | 'remove';
  /** Ids named in `value`; undefined for a bare remove (= all). */
  ids?: string[];
  /** `members[value eq "…"]`-style selection for remove, matched against `{ value, display }`. */
  filter?: CompiledFilter;
};
type CanonicalOp = AttributeOp | MembershipOp;

const CORE_URN = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/i;

const ATTRIBUTES: Record<Target, readonly string[]> = {
  User: ['userName', 'displayName', 'externalId', 'title', 'name', 'active', 'emails'],
  Group: ['displayName', 'externalId'],
};
const MEMBERSHIP: Record<Target, string> = { User: 'groups', Group: 'members' };
const SUB_ATTRIBUTES: Record<string, readonly string[]> = {
  name: [
    'givenName',
    'familyName',
    'formatted',
    'middleName',
    'honorificPrefix',
    'honorificSuffix',
  ],
  emails: ['value', 'type', 'primary', 'display'],
};
const IGNORED = new Set(['schemas', 'meta']);

export function patchUser(store: EmulatorStore, id: string, body: unknown): UserRecord {
  const user = store.requireUser(id);
  const ops = normaliseBody(body, 'User', id, store.rfcStrict);
  let doc = userDocument(user);
  let groups = store.groupsOf(id);
  for (const op of ops) {
    if (op.kind === 'attribute') {
      doc = applyAttribute(doc, op);
    } else if (store.rfcStrict) {
      // RFC 7643 §4.1: User.groups is readOnly; memberships change through /Groups only.
      throw badRequest('mutability', 'groups is read-only; PATCH the Group instead');
    } else {
      groups = applyMembership(groups, op, (groupId) => {
        const group = store.requireGroup(groupId);
        return group.displayName;
      });
    }
  }
  return store.commitUser(id, userFieldsFrom(doc, store.rfcStrict), groups);
}

export function patchGroup(store: EmulatorStore, id: string, body: unknown): GroupRecord {
  const group = store.requireGroup(id);
  const ops = normaliseBody(body, 'Group', id, store.rfcStrict);
  let doc: PatchDocument = {
    schemas: [SCHEMA_GROUP],
    meta: {} as PatchDocument['meta'],
    displayName: group.displayName,
    ...(group.externalId ? { externalId: group.externalId } : {}),
  };
  let members = store.membersOf(id);
  for (const op of ops) {
    if (op.kind === 'attribute') {
      doc = applyAttribute(doc, op);
    } else {
      members = applyMembership(members, op, (userId) => store.requireMember(userId).userName);
    }
  }
  const displayName = optionalString(doc['displayName'], 'displayName');
  const externalId = optionalString(doc['externalId'], 'externalId');
  if (displayName === undefined) throw badRequest('invalidValue', 'displayName is required');
  return store.commitGroup(id, { displayName, ...(externalId ? { externalId } : {}) }, members);
}

// ---- step 1: normalisation ------------------------------------------------------------------

function normaliseBody(
  body: unknown,
  target: Target,
  resourceId: string,
  strict: boolean,
): CanonicalOp[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalidSyntax', 'A PATCH body must be a JSON object with "Operations"');
  }
  // `schemas` is not required by Keeper: its own guide sends members PATCHes without it. A
  // strict RFC 7644 §3.5.2 server requires the PatchOp URN.
  if (strict) requireSchema(body as Record<string, unknown>, SCHEMA_PATCH);
  const operations = canonicalKeys(body as Record<string, unknown>, ['Operations'])['Operations'];
  if (!Array.isArray(operations) || operations.length === 0) {
    throw badRequest('invalidSyntax', '"Operations" must be a non-empty array');
  }
  return operations.flatMap((raw, index) => normaliseOp(raw, index, target, resourceId));
}

function normaliseOp(raw: unknown, index: number, target: Target, id: string): CanonicalOp[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw badRequest('invalidSyntax', `Operations[${index}] must be an object`);
  }
  const fields = canonicalKeys(raw as Record<string, unknown>, ['op', 'path', 'value']);
  // Entra sends "Replace"/"Add"/"Remove"; Microsoft requires any case to work (docs/keeper-scim.md §5 C).
  const op = typeof fields['op'] === 'string' ? fields['op'].toLowerCase() : '';
  if (op !== 'add' && op !== 'replace' && op !== 'remove') {
    throw badRequest('invalidSyntax', `Operations[${index}].op must be add, replace or remove`);
  }
  const path = fields['path'];
  if (path !== undefined && path !== null && typeof path !== 'string') {
    throw badRequest('invalidPath', `Operations[${index}].path must be a string`);
  }
  if (typeof path === 'string' && path.trim() !== '') {
    return normalisePath(op, path.trim(), fields['value'], target, id);
  }
  // RFC 7644 §3.5.2.2: remove without a path is 400 noTarget.
  if (op === 'remove') throw badRequest('noTarget', `Operations[${index}]: remove needs a path`);
  const value = fields['value'];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw badRequest(
      'invalidValue',
      `Operations[${index}]: add/replace without a path needs an object value`,
    );
  }
  return Object.entries(value).flatMap(([key, v]) => normalisePath(op, key, v, target, id));
}

function normalisePath(
  op: 'add' | 'replace' | 'remove',
  rawPath: string,
  value: unknown,
  target: Target,
  resourceId: string,
): CanonicalOp[] {
  let path = rawPath;
  if (CORE_URN.test(path)) path = path.replace(CORE_URN, '');
  // Enterprise-extension (and any other schema) paths: Keeper ignores them (docs/keeper-scim.md §5 C).
  else if (/^urn:/i.test(path)) return [];

  const match = /^([^.[]+)(\[(.*)\])?(?:\.(.+))?$/s.exec(path);
  if (!match) throw badRequest('invalidPath', `Invalid path ${JSON.stringify(rawPath)}`);
  const [, head = '', , filter, sub] = match;
  const lower = head.toLowerCase();

  if (lower === 'id') {
    if (op !== 'remove' && value === resourceId) return [];
    throw badRequest('mutability', 'id is read-only');
  }
  if (IGNORED.has(lower)) return [];

  if (lower === MEMBERSHIP[target].toLowerCase()) {
    return membershipOp(op, rawPath, value, filter, sub, MEMBERSHIP[target]);
  }
  const attribute = ATTRIBUTES[target].find((a) => a.toLowerCase() === lower);
  if (!attribute) return [];

  let canonical = attribute;
  if (filter !== undefined) canonical += `[${filter}]`;
  if (sub !== undefined) {
    const known = SUB_ATTRIBUTES[attribute] ?? [];
    canonical += `.${known.find((s) => s.toLowerCase() === sub.toLowerCase()) ?? sub}`;
  }
  let canonicalValue = value;
  if (sub === undefined && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const known = SUB_ATTRIBUTES[attribute];
    if (known) canonicalValue = canonicalKeys(value as Record<string, unknown>, known);
  }
  return [{ kind: 'attribute', op, path: canonical, value: canonicalValue }];
}

function membershipOp(
  op: 'add' | 'replace' | 'remove',
  rawPath: string,
  value: unknown,
  filter: string | undefined,
  sub: string | undefined,
  attribute: string,
): MembershipOp[] {
  if (filter !== undefined) {
    // `members[value eq "x"].display` only touches derived data (display = userName or team
    // name), so there is nothing to change.
    if (sub !== undefined) return [];
    if (op !== 'remove') {
      throw badRequest('invalidPath', `${op} with a value filter is not supported on ${rawPath}`);
    }
    try {
      return [{ kind: 'membership', op, filter: compileValueFilter(filter, attribute) }];
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      throw badRequest('invalidPath', `Invalid filter in path ${rawPath}: ${detail}`);
    }
  }
  if (sub !== undefined) throw badRequest('invalidPath', `Invalid path ${JSON.stringify(rawPath)}`);
  if (op === 'remove' && (value === undefined || value === null)) {
    return [{ kind: 'membership', op }];
  }
  return [{ kind: 'membership', op, ids: memberIds(value, rawPath) }];
}

/** `[{"value":"x","$ref":null}]`, a single `{"value":"x"}`, or bare id strings. */
function memberIds(value: unknown, path: string): string[] {
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    const id =
      item !== null && typeof item === 'object'
        ? canonicalKeys(item as Record<string, unknown>, ['value'])['value']
        : item;
    if ((typeof id === 'string' && id !== '') || typeof id === 'number') return String(id);
    throw badRequest('invalidValue', `Every ${path} value needs a "value" id`);
  });
}

// ---- step 2: attributes via scim-patch -------------------------------------------------------

type PatchDocument = ScimResource & Record<string, unknown>;

function userDocument(user: UserRecord): PatchDocument {
  return {
    schemas: [SCHEMA_USER],
    meta: {} as PatchDocument['meta'],
    userName: user.userName,
    ...(user.displayName ? { displayName: user.displayName } : {}),
    ...(user.externalId ? { externalId: user.externalId } : {}),
    ...(user.title ? { title: user.title } : {}),
    ...(user.name ? { name: { ...user.name } } : {}),
    emails: [{ primary: true, value: user.userName, type: 'work' }],
    active: user.active,
  };
}

function applyAttribute(doc: PatchDocument, op: AttributeOp): PatchDocument {
  const operation = (
    op.op === 'remove'
      ? { op: 'remove', path: op.path, ...(op.value === undefined ? {} : { value: op.value }) }
      : { op: op.op, path: op.path, value: op.value }
  ) as ScimPatchOperation;
  try {
    return scimPatch(doc, [operation], { mutateDocument: false, treatMissingAsAdd: true });
  } catch (error) {
    if (error instanceof ScimPatchError) {
      const scimType = error.scimCode === 'noTarget' ? 'noTarget' : 'invalidPath';
      throw badRequest(scimType, `${op.op} ${op.path}: ${error.message}`);
    }
    if (error instanceof EmulatorError) throw error;
    throw badRequest('invalidPath', `${op.op} ${op.path}: ${(error as Error).message}`);
  }
}

/**
 * Projects a patched document back onto Keeper's writable user attributes. `emails` is dropped:
 * Keeper has one address per user, its username, and synthesises `emails` from it
 * (docs/keeper-scim.md §2.2), so an e-mail PATCH is accepted but changes nothing.
 */
function userFieldsFrom(doc: PatchDocument, strict: boolean): UserFields {
  const userName = doc['userName'];
  if (typeof userName !== 'string' || userName === '') {
    throw badRequest('invalidValue', 'userName is required and must be a string');
  }
  const fields: UserFields = { userName, active: coerceActive(doc['active'], strict) };
  const displayName = optionalString(doc['displayName'], 'displayName');
  const externalId = optionalString(doc['externalId'], 'externalId');
  const title = optionalString(doc['title'], 'title');
  if (displayName) fields.displayName = displayName;
  if (externalId) fields.externalId = externalId;
  if (title) fields.title = title;
  const name = doc['name'];
  if (name !== undefined && name !== null) {
    if (typeof name !== 'object' || Array.isArray(name)) {
      throw badRequest('invalidValue', 'name must be an object');
    }
    const out: UserName = {};
    for (const key of ['givenName', 'familyName', 'formatted'] as const) {
      const v = optionalString((name as Record<string, unknown>)[key], `name.${key}`);
      if (v) out[key] = v;
    }
    if (Object.keys(out).length > 0) fields.name = out;
  }
  return fields;
}

function optionalString(value: unknown, attribute: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw badRequest('invalidValue', `${attribute} must be a string, got ${JSON.stringify(value)}`);
  }
  return value;
}

// ---- step 3: membership ---------------------------------------------------------------------

/**
 * Applies one membership op to a working copy of ids. `display` resolves an id to its display
 * value and throws 404 when the id is not in the node (docs/keeper-scim.md §5 rule 8).
 */
function applyMembership(
  current: readonly string[],
  op: MembershipOp,
  display: (id: string) => string,
): string[] {
  for (const id of op.ids ?? []) display(id);
  if (op.op === 'add') return [...new Set([...current, ...(op.ids ?? [])])];
  if (op.op === 'replace') return [...new Set(op.ids ?? [])];
  if (op.filter !== undefined) {
    const matches = op.filter;
    return current.filter((id) => !matches({ value: id, display: display(id) }));
  }
  if (op.ids === undefined) return [];
  const removed = new Set(op.ids);
  return current.filter((id) => !removed.has(id));
}
