import { type Filter, parse } from 'scim2-parse-filter';
import { badRequest, type EmulatorError } from './errors.ts';

// RFC 7644 §3.4.2.2 filters, in two profiles:
// - `keeper` (default) is the pessimistic Keeper of docs/keeper-scim.md §4: only `attr eq "value"` on
//   id/userName/externalId (Users) or id/displayName/externalId (Groups); anything else is
//   400 invalidFilter, so the facade is tested against the least it may rely on.
// - `rfc` accepts the whole grammar.
//
// Parsing is scim2-parse-filter's; evaluation is ours. Its `filter()` compares every string with
// `===` (so `userName eq "JANE@X"` misses although userName is caseExact=false, RFC 7643 §4.1.1),
// treats `pr` as true for null, and lets `gt` run on booleans (RFC 7644 §3.4.2.2 says 400). Its
// tokenizer also doubles backslashes inside string literals (`"a\\b"` becomes `a\\b`), so string
// literals are cut out and decoded with JSON.parse before the library sees the filter.

export type FilterProfile = 'keeper' | 'rfc';
export type FilterTarget = 'User' | 'Group';

export type CompiledFilter = (resource: object) => boolean;

const KEEPER_ATTRIBUTES: Record<FilterTarget, readonly string[]> = {
  User: ['id', 'userName', 'externalId'],
  Group: ['id', 'displayName', 'externalId'],
};

// RFC 7643 §3.1 (id, externalId) and §8.7.1: ids compare exactly; the `value` of groups/members
// holds ids too. Every other string attribute of our resources is caseExact=false.
const CASE_EXACT = new Set(['id', 'externalid', 'groups.value', 'members.value']);
const BOOLEAN = new Set(['active', 'emails.primary']);
const ORDERING = new Set(['gt', 'ge', 'lt', 'le']);

const invalidFilter = (detail: string): EmulatorError => badRequest('invalidFilter', detail);

/**
 * @param caseExact attribute paths (lower case, dotted) compared with their case on top of the
 *   RFC's own: some servers compare `userName` and `displayName` exactly, against RFC 7643.
 */
export function compileFilter(
  text: string,
  profile: FilterProfile,
  target: FilterTarget,
  caseExact: ReadonlySet<string> = CASE_EXACT,
): CompiledFilter {
  const ast = parseFilter(text);
  if (profile === 'keeper') checkKeeperProfile(ast, target, text);
  checkTypes(ast, []);
  return (resource) => evaluate(ast, resource, [], caseExact);
}

/** The case-exact attributes of a server that also compares userName and displayName exactly. */
export const STRICT_CASE_EXACT: ReadonlySet<string> = new Set([
  ...CASE_EXACT,
  'username',
  'displayname',
]);

/** Parses with scim2-parse-filter after swapping every string literal for a placeholder. */
function parseFilter(text: string): Filter {
  const literals: string[] = [];
  let masked = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '"') {
      masked += ch;
      continue;
    }
    let j = i + 1;
    while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
    if (j >= text.length) throw invalidFilter(`Unterminated string in filter: ${text}`);
    try {
      literals.push(JSON.parse(text.slice(i, j + 1)) as string);
    } catch {
      throw invalidFilter(`Invalid string literal ${text.slice(i, j + 1)} in filter`);
    }
    masked += `"__lit${literals.length - 1}__"`;
    i = j;
  }
  let ast: Filter;
  try {
    ast = parse(masked);
  } catch (error) {
    throw invalidFilter(`Invalid filter ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  return restoreLiterals(ast, literals);
}

function restoreLiterals(f: Filter, literals: string[]): Filter {
  switch (f.op) {
    case 'and':
    case 'or':
      return { ...f, filters: f.filters.map((c) => restoreLiterals(c, literals)) };
    case 'not':
      return { ...f, filter: restoreLiterals(f.filter, literals) };
    case '[]':
      return { ...f, valFilter: restoreLiterals(f.valFilter, literals) };
    case 'pr':
      return f;
    default: {
      const match = typeof f.compValue === 'string' ? /^__lit(\d+)__$/.exec(f.compValue) : null;
      return match ? { ...f, compValue: literals[Number(match[1])] ?? '' } : f;
    }
  }
}

function checkKeeperProfile(ast: Filter, target: FilterTarget, text: string): void {
  const allowed = KEEPER_ATTRIBUTES[target];
  const ok =
    ast.op === 'eq' &&
    typeof ast.compValue === 'string' &&
    allowed.some((a) => a.toLowerCase() === ast.attrPath.toLowerCase());
  if (!ok) {
    throw invalidFilter(
      `Unsupported filter ${JSON.stringify(text)}: only 'attribute eq "value"' on ${allowed.join(', ')} is supported for /${target}s`,
    );
  }
}

/** Attribute path without a core-schema URN, lower case, split on dots. */
function segments(attrPath: string): string[] {
  const colon = attrPath.lastIndexOf(':');
  const urn = colon === -1 ? '' : attrPath.slice(0, colon).toLowerCase();
  const local = colon === -1 ? attrPath : attrPath.slice(colon + 1);
  const parts = local.toLowerCase().split('.');
  // Extension attributes (e.g. the enterprise URN, which Keeper ignores) never match anything.
  if (urn !== '' && !/^urn:ietf:params:scim:schemas:core:2\.0:(user|group)$/.test(urn)) {
    return [`${urn}:`, ...parts];
  }
  return parts;
}

function checkTypes(f: Filter, prefix: string[]): void {
  switch (f.op) {
    case 'and':
    case 'or':
      for (const c of f.filters) checkTypes(c, prefix);
      return;
    case 'not':
      checkTypes(f.filter, prefix);
      return;
    case '[]':
      checkTypes(f.valFilter, [...prefix, ...segments(f.attrPath)]);
      return;
    case 'pr':
      return;
    default: {
      const path = [...prefix, ...segments(f.attrPath)].join('.');
      // RFC 7644 §3.4.2.2: gt/ge/lt/le on a boolean attribute is 400 invalidFilter.
      if (BOOLEAN.has(path) && ORDERING.has(f.op)) {
        throw invalidFilter(`Operator ${f.op} cannot be used on boolean attribute ${f.attrPath}`);
      }
    }
  }
}

function evaluate(
  f: Filter,
  resource: unknown,
  prefix: string[],
  caseExact: ReadonlySet<string>,
): boolean {
  switch (f.op) {
    case 'and':
      return f.filters.every((c) => evaluate(c, resource, prefix, caseExact));
    case 'or':
      return f.filters.some((c) => evaluate(c, resource, prefix, caseExact));
    case 'not':
      return !evaluate(f.filter, resource, prefix, caseExact);
    case '[]': {
      const path = segments(f.attrPath);
      return resolve(resource, path).some((item) =>
        evaluate(f.valFilter, item, [...prefix, ...path], caseExact),
      );
    }
    case 'pr':
      // RFC 7644 §3.4.2.2: "pr" matches a non-empty, non-null value.
      return leaves(resource, segments(f.attrPath)).some((v) => v !== null && v !== '');
    default: {
      const path = segments(f.attrPath);
      const exact = caseExact.has([...prefix, ...path].join('.'));
      const values = leaves(resource, path);
      const expected = f.compValue;
      // `attr eq null` asks for an unassigned attribute; RFC 7643 §2.5 treats null and empty
      // as unassigned, so both count as absent here.
      if (expected === null) {
        const present = values.some((v) => v !== null && v !== '');
        return f.op === 'eq' ? !present : f.op === 'ne' ? present : false;
      }
      // A multi-valued attribute matches if any value matches; `ne` matches if none equals.
      if (f.op === 'ne') return !values.some((v) => compare('eq', v, expected, exact));
      return values.some((v) => compare(f.op, v, expected, exact));
    }
  }
}

/** Values at `path`, flattening multi-valued attributes; keys match case-insensitively. */
function resolve(node: unknown, path: readonly string[]): unknown[] {
  if (path.length === 0) return Array.isArray(node) ? node : [node];
  if (Array.isArray(node)) return node.flatMap((item) => resolve(item, path));
  if (node === null || typeof node !== 'object') return [];
  const [head, ...rest] = path;
  const key = Object.keys(node).find((k) => k.toLowerCase() === head);
  return key === undefined ? [] : resolve((node as Record<string, unknown>)[key], rest);
}

/** Like resolve, but a complex value stands for its `value` sub-attribute (RFC 7644 §3.4.2.2). */
function leaves(node: unknown, path: readonly string[]): unknown[] {
  return resolve(node, path).map((v) =>
    v !== null && typeof v === 'object' && 'value' in v ? (v as { value: unknown }).value : v,
  );
}

/**
 * One attribute value against one literal. Ordering compares strings lexically (RFC 7644
 * §3.4.2.2) and never mixes types, so `gt 5` on a string attribute is simply false.
 */
function compare(
  op: string,
  actual: unknown,
  expected: string | number | boolean,
  caseExact: boolean,
): boolean {
  if (actual === null || actual === undefined || typeof actual === 'object') return false;
  let a: string | number | boolean = actual as string | number | boolean;
  let e = expected;
  if (typeof a === 'string' && typeof e === 'string' && !caseExact) {
    a = a.toLowerCase();
    e = e.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return a === e;
    case 'co':
      return typeof a === 'string' && typeof e === 'string' && a.includes(e);
    case 'sw':
      return typeof a === 'string' && typeof e === 'string' && a.startsWith(e);
    case 'ew':
      return typeof a === 'string' && typeof e === 'string' && a.endsWith(e);
    case 'gt':
      return typeof a === typeof e && a > e;
    case 'ge':
      return typeof a === typeof e && a >= e;
    case 'lt':
      return typeof a === typeof e && a < e;
    case 'le':
      return typeof a === typeof e && a <= e;
    default:
      return false;
  }
}

/** Filter for multi-valued membership paths such as `members[value eq "123"]` in PATCH. */
export function compileValueFilter(text: string, attribute: string): CompiledFilter {
  const ast = parseFilter(text);
  checkTypes(ast, [attribute.toLowerCase()]);
  return (item) => evaluate(ast, item, [attribute.toLowerCase()], CASE_EXACT);
}
