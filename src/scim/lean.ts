import type { ListResponse, ScimGroup, ScimUser } from './schemas.ts';

// The hot path's validation of SCIM list answers and single resources: the same acceptance and
// the same output as the zod schemas in schemas.ts (test/scim/lean.test.ts checks both on
// generated resources), written as plain checks because zod's general machinery allocated and
// cost several times JSON.parse per page. These functions only say "valid, here is the value"
// or "not valid" (`undefined`); the client then asks zod for the issues of an invalid body, so
// error messages stay exactly what they were.
//
// The rules mirrored from zod 4's loose objects: unknown keys are kept as they are; a key the
// input has is written to the output even when its value transforms to undefined; a key the input
// lacks is written only when its schema gives a default (`emails` → [], `active` → true).

type Obj = Record<string, unknown>;

const FAIL = Symbol('invalid');
type Fail = typeof FAIL;

const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const has = (o: Obj, key: string) => Object.hasOwn(o, key);

/** Id: a non-empty string, or a non-negative safe integer, as a string. */
function id(v: unknown): string | Fail {
  if (typeof v === 'string') return v.length > 0 ? v : FAIL;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v);
  return FAIL;
}

/** optionalString: string | null | undefined → string | undefined. */
function optionalString(v: unknown): string | undefined | Fail {
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : FAIL;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function stringArray(v: unknown): string[] | Fail {
  if (!Array.isArray(v)) return FAIL;
  for (const s of v) if (typeof s !== 'string') return FAIL;
  return v as string[];
}

/**
 * Copies `input` with the keys of `fields` replaced by their checked values (zod's loose object).
 * A key the input lacks is checked as `undefined`: required fields fail, optional ones are left
 * out, defaulted ones get their default. Returns FAIL as soon as one field fails.
 */
function looseObject(input: unknown, fields: Record<string, (v: unknown) => unknown>): Obj | Fail {
  if (!isObject(input)) return FAIL;
  const out: Obj = {};
  for (const key in fields) {
    const check = fields[key] as (v: unknown) => unknown;
    if (has(input, key)) {
      const value = check(input[key]);
      if (value === FAIL) return FAIL;
      out[key] = value;
    } else {
      const value = check(undefined);
      if (value === FAIL) return FAIL;
      if (value !== undefined) out[key] = value;
    }
  }
  for (const key in input) {
    if (!has(fields, key) && has(input, key)) out[key] = input[key];
  }
  return out;
}

function arrayOf<T>(v: unknown, item: (x: unknown) => T | Fail): T[] | Fail {
  if (!Array.isArray(v)) return FAIL;
  const out = new Array<T>(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = item(v[i]);
    if (x === FAIL) return FAIL;
    out[i] = x;
  }
  return out;
}

const multiValueFields = {
  value: id,
  display: optionalString,
  type: optionalString,
  $ref: optionalString,
};
const multiValue = (v: unknown) => looseObject(v, multiValueFields);

const emailFields = {
  value: (v: unknown) => (typeof v === 'string' ? v : FAIL),
  type: optionalString,
  primary: (v: unknown) => (v === undefined || v === null || typeof v === 'boolean' ? v : FAIL),
};
const email = (v: unknown) => looseObject(v, emailFields);

const nameFields = {
  givenName: optionalString,
  familyName: optionalString,
  formatted: optionalString,
};

const ACTIVE_STRINGS: Record<string, boolean> = {
  true: true,
  True: true,
  TRUE: true,
  false: false,
  False: false,
  FALSE: false,
};

const userFields = {
  schemas: (v: unknown) => (v === undefined ? undefined : stringArray(v)),
  id,
  userName: (v: unknown) => (typeof v === 'string' && v.length > 0 ? v : FAIL),
  externalId: optionalString,
  displayName: optionalString,
  name: (v: unknown) => (v === undefined || v === null ? undefined : looseObject(v, nameFields)),
  emails: (v: unknown) => (v === undefined || v === null ? [] : arrayOf(v, email)),
  groups: (v: unknown) => (v === undefined || v === null ? undefined : arrayOf(v, multiValue)),
  active: (v: unknown) => {
    if (v === undefined || v === null) return true;
    if (typeof v === 'boolean') return v;
    if (typeof v === 'string' && has(ACTIVE_STRINGS, v)) return ACTIVE_STRINGS[v];
    return FAIL;
  },
};

const groupFields = {
  schemas: userFields.schemas,
  id,
  displayName: (v: unknown) => (typeof v === 'string' ? v : FAIL),
  externalId: optionalString,
  members: (v: unknown) => (v === undefined || v === null ? undefined : arrayOf(v, multiValue)),
};

const user = (v: unknown) => looseObject(v, userFields);
const group = (v: unknown) => looseObject(v, groupFields);

/** A User resource, or undefined when the zod schema would refuse it. */
export function leanUser(v: unknown): ScimUser | undefined {
  const out = user(v);
  return out === FAIL ? undefined : (out as ScimUser);
}

/** A Group resource, or undefined when the zod schema would refuse it. */
export function leanGroup(v: unknown): ScimGroup | undefined {
  const out = group(v);
  return out === FAIL ? undefined : (out as ScimGroup);
}

const listFields = (item: (v: unknown) => Obj | Fail) => ({
  schemas: userFields.schemas,
  totalResults: (v: unknown) => (isInt(v) && v >= 0 ? v : FAIL),
  startIndex: (v: unknown) => (v === undefined || isInt(v) ? v : FAIL),
  itemsPerPage: (v: unknown) => (v === undefined || isInt(v) ? v : FAIL),
  Resources: (v: unknown) => (v === undefined || v === null ? [] : arrayOf(v, item)),
});
const userListFields = listFields(user);
const groupListFields = listFields(group);

function list<T>(v: unknown, fields: Record<string, (v: unknown) => unknown>) {
  const out = looseObject(v, fields);
  return out === FAIL ? undefined : (out as ListResponse<T>);
}

/** A ListResponse of Users, or undefined when the zod schema would refuse it. */
export const leanUserList = (v: unknown) => list<ScimUser>(v, userListFields);

/** A ListResponse of Groups, or undefined when the zod schema would refuse it. */
export const leanGroupList = (v: unknown) => list<ScimGroup>(v, groupListFields);
