import { z } from 'zod';
import { badRequest } from './errors.ts';
import type { EmulatorStore, GroupInput, GroupRecord, UserInput, UserRecord } from './store.ts';
import { SCHEMA_GROUP, SCHEMA_USER } from './urns.ts';

// Wire shapes in both directions. Outgoing resources copy Keeper's recorded answers
// (docs/keeper-scim.md §2.2): bare resources, only the core URN in `schemas`, no `meta`, unset
// attributes omitted (never null), `emails` synthesised from userName, `groups` always present.
// Incoming bodies are read leniently: attribute names in any case (RFC 7643 §2.1), unknown
// attributes, `roles`, `password`, `meta` and the enterprise extension ignored (docs/keeper-scim.md §2.1).

export type ScimUserJson = {
  schemas: [typeof SCHEMA_USER];
  id: string;
  externalId?: string;
  userName: string;
  displayName: string;
  name?: { givenName?: string; familyName?: string; formatted?: string };
  title?: string;
  emails: { primary: true; value: string; type: 'work' }[];
  groups: { value: string; display: string }[];
  active: boolean;
};

export type ScimGroupJson = {
  schemas: [typeof SCHEMA_GROUP];
  id: string;
  displayName: string;
  externalId?: string;
  members?: { value: string; display: string }[];
};

export function renderUser(store: EmulatorStore, user: UserRecord): ScimUserJson {
  return {
    schemas: [SCHEMA_USER],
    id: user.id,
    ...(user.externalId ? { externalId: user.externalId } : {}),
    userName: user.userName,
    displayName: user.displayName ?? user.userName,
    ...(user.name ? { name: { ...user.name } } : {}),
    ...(user.title ? { title: user.title } : {}),
    emails: [{ primary: true, value: user.userName, type: 'work' }],
    // Always present, `[]` when empty, as in Keeper's recorded 201 (docs/keeper-scim.md §2.2). Roles
    // appear here too, with their prefixed name: the facade tells them apart by the prefix.
    groups: store.groupsOf(user.id).map((groupId) => ({
      value: groupId,
      display: store.getGroup(groupId)?.displayName ?? groupId,
    })),
    active: user.active,
  };
}

export function renderGroup(
  store: EmulatorStore,
  group: GroupRecord,
  withMembers: boolean,
): ScimGroupJson {
  const json: ScimGroupJson = {
    schemas: [SCHEMA_GROUP],
    id: group.id,
    displayName: group.displayName,
    ...(group.externalId ? { externalId: group.externalId } : {}),
  };
  if (withMembers) {
    json.members = store.membersOf(group.id).map((userId) => ({
      value: userId,
      display: store.getUser(userId)?.userName ?? userId,
    }));
  }
  return json;
}

// ---- attribute projection (RFC 7644 §3.4.2.5) --------------------------------------------------

const CORE_PREFIX = /^urn:ietf:params:scim:schemas:core:2\.0:(user|group):/i;

export type Projection = { attributes?: string[]; excludedAttributes?: string[] };

export function parseProjection(query: URLSearchParams): Projection {
  const list = (key: string) => {
    const raw = query.get(key);
    if (raw === null || raw.trim() === '') return undefined;
    return raw
      .split(',')
      .map((a) => a.trim().replace(CORE_PREFIX, '').toLowerCase())
      .filter((a) => a !== '');
  };
  const projection: Projection = {};
  const attributes = list('attributes');
  const excludedAttributes = list('excludedAttributes');
  if (attributes) projection.attributes = attributes;
  if (excludedAttributes) projection.excludedAttributes = excludedAttributes;
  return projection;
}

/** Whether `attr` (top-level, lower case) survives the projection; used to skip work early. */
export function projectionKeeps(projection: Projection, attr: string): boolean {
  if (projection.attributes) {
    return projection.attributes.some((a) => a === attr || a.startsWith(`${attr}.`));
  }
  return !projection.excludedAttributes?.includes(attr);
}

/** `id` and `schemas` are returned always (RFC 7643 §7 "returned": "always"). */
export function project<T extends object>(resource: T, projection: Projection): Partial<T> {
  if (!projection.attributes && !projection.excludedAttributes) return resource;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(resource)) {
    const lower = key.toLowerCase();
    if (lower === 'id' || lower === 'schemas') {
      out[key] = value;
      continue;
    }
    if (projection.attributes) {
      if (projection.attributes.includes(lower)) {
        out[key] = value;
      } else {
        const subs = projection.attributes
          .filter((a) => a.startsWith(`${lower}.`))
          .map((a) => a.slice(lower.length + 1));
        if (subs.length > 0 && value !== null && typeof value === 'object') {
          out[key] = pickSubAttributes(value, subs);
        }
      }
    } else if (!projection.excludedAttributes?.includes(lower)) {
      out[key] = value;
    }
  }
  return out as Partial<T>;
}

function pickSubAttributes(value: object, subs: string[]): unknown {
  const pick = (item: object) =>
    Object.fromEntries(Object.entries(item).filter(([k]) => subs.includes(k.toLowerCase())));
  return Array.isArray(value) ? value.map((item: object) => pick(item)) : pick(value);
}

// ---- request bodies ------------------------------------------------------------------------------

/**
 * Keeper documents `"true"`/`"false"` strings for `active` and Entra sends `"True"`/`"False"`
 * (docs/keeper-scim.md §5 A, C, §8.3); anything that is not a boolean in some case is refused.
 */
export function coerceActive(value: unknown, strict = false): boolean {
  if (typeof value === 'boolean') return value;
  // A strict RFC server takes only the JSON boolean of RFC 7643 §4.1.1.
  if (typeof value === 'string' && !strict) {
    const lower = value.trim().toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
  }
  throw badRequest('invalidValue', `active must be true or false, got ${JSON.stringify(value)}`);
}

const text = z
  .string()
  .nullish()
  .transform((v) => v ?? undefined);

const Ref = z.looseObject({ value: z.union([z.string().min(1), z.number()]).transform(String) });

const UserBody = z.looseObject({
  userName: z.string({ error: 'userName is required' }),
  displayName: text,
  externalId: text,
  title: text,
  name: z
    .looseObject({ givenName: text, familyName: text, formatted: text })
    .nullish()
    .transform((v) => v ?? undefined),
  active: z.unknown().optional(),
  groups: z
    .array(Ref)
    .nullish()
    .transform((v) => v ?? undefined),
});

const GroupBody = z.looseObject({
  displayName: z.string({ error: 'displayName is required' }),
  externalId: text,
  members: z
    .array(Ref)
    .nullish()
    .transform((v) => v ?? undefined),
});

const USER_KEYS = ['userName', 'displayName', 'externalId', 'title', 'name', 'active', 'groups'];
const NAME_KEYS = ['givenName', 'familyName', 'formatted'];
const GROUP_KEYS = ['displayName', 'externalId', 'members', 'id'];

/** Renames keys to their canonical spelling; attribute names are case-insensitive (RFC 7643 §2.1). */
export function canonicalKeys(body: Record<string, unknown>, known: readonly string[]) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const canonical = known.find((k) => k.toLowerCase() === key.toLowerCase());
    out[canonical ?? key] = value;
  }
  return out;
}

/** RFC 7644 §3.3 and §3.5: a strict server refuses a body whose `schemas` lacks the URN. */
export function requireSchema(body: Record<string, unknown>, urn: string): void {
  const schemas = canonicalKeys(body, ['schemas'])['schemas'];
  if (!Array.isArray(schemas) || !schemas.includes(urn)) {
    throw badRequest('invalidSyntax', `"schemas" must list ${urn}`);
  }
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('invalidSyntax', `The request body must be a JSON object (${what})`);
  }
  return body as Record<string, unknown>;
}

function zodProblem(error: z.ZodError): string {
  return error.issues
    .map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
}

export type ParsedUserBody = UserInput & { groupsGiven: boolean; activeGiven: boolean };

/**
 * @param strict a strict RFC server: `schemas` must name the User URN, `active` must be a JSON
 *   boolean, and `groups` is read-only (RFC 7643 §4.1), so it is ignored.
 */
export function parseUserBody(body: unknown, strict = false): ParsedUserBody {
  if (strict) requireSchema(asObject(body, 'User'), SCHEMA_USER);
  const raw = canonicalKeys(asObject(body, 'User'), USER_KEYS);
  if (strict) delete raw['groups'];
  if (raw['name'] && typeof raw['name'] === 'object' && !Array.isArray(raw['name'])) {
    raw['name'] = canonicalKeys(raw['name'] as Record<string, unknown>, NAME_KEYS);
  }
  const parsed = UserBody.safeParse(raw);
  if (!parsed.success) throw badRequest('invalidValue', zodProblem(parsed.error));
  const data = parsed.data;
  // Empty strings count as unset: Keeper's guide posts `"externalId": ""`, and Keeper omits
  // unset attributes rather than echoing empty ones (docs/keeper-scim.md §2.2).
  const input: ParsedUserBody = {
    userName: data.userName,
    groupsGiven: data.groups !== undefined,
    activeGiven: data.active !== undefined && data.active !== null,
  };
  if (data.displayName) input.displayName = data.displayName;
  if (data.externalId) input.externalId = data.externalId;
  if (data.title) input.title = data.title;
  if (data.name) {
    const { givenName, familyName, formatted } = data.name;
    input.name = {
      ...(givenName ? { givenName } : {}),
      ...(familyName ? { familyName } : {}),
      ...(formatted ? { formatted } : {}),
    };
  }
  if (input.activeGiven) input.active = coerceActive(data.active, strict);
  if (data.groups) input.groups = [...new Set(data.groups.map((g) => g.value))];
  return input;
}

export type ParsedGroupBody = GroupInput & { members?: string[]; id?: unknown };

/**
 * `schemas` is not checked by Keeper: Commander posts `…:Group;` with a stray semicolon and Entra
 * adds its own ADSCIM URN, and Keeper accepts both (docs/keeper-scim.md §8.7); `strict` checks it.
 * `id` is kept for PUT's check.
 */
export function parseGroupBody(body: unknown, strict = false): ParsedGroupBody {
  if (strict) requireSchema(asObject(body, 'Group'), SCHEMA_GROUP);
  const raw = canonicalKeys(asObject(body, 'Group'), GROUP_KEYS);
  const parsed = GroupBody.safeParse(raw);
  if (!parsed.success) throw badRequest('invalidValue', zodProblem(parsed.error));
  const { displayName, externalId, members } = parsed.data;
  return {
    displayName,
    ...(externalId ? { externalId } : {}),
    ...(members ? { members: [...new Set(members.map((m) => m.value))] } : {}),
    ...(raw['id'] !== undefined ? { id: raw['id'] } : {}),
  };
}
