// SCIM filter builder (RFC 7644 §3.4.2.2). The facade assumes the pessimistic Keeper
// (docs/keeper-scim.md §4 "Facade rule"): it only ever emits `attr eq "value"` on an allow-listed
// attribute, and `or` chains of those only for upstreams known to support `or`. Every value is
// written as a JSON string (RFC 7644 §3.4.2.2: compValue string = RFC 7159 string), so no caller
// input can change a filter's meaning: quotes and backslashes are escaped, control characters and
// lone surrogates become `\uXXXX` escapes (ES2019 well-formed JSON.stringify).

/** Attributes the facade may filter Users on: all documented or IdP-proven `eq` filters. */
export const USER_FILTER_ATTRIBUTES = ['id', 'userName', 'externalId'] as const;
/** Attributes the facade may filter Groups on (Entra's `displayName eq`, docs/keeper-scim.md §4). */
export const GROUP_FILTER_ATTRIBUTES = ['id', 'displayName', 'externalId'] as const;

export type UserFilterAttribute = (typeof USER_FILTER_ATTRIBUTES)[number];
export type GroupFilterAttribute = (typeof GROUP_FILTER_ATTRIBUTES)[number];
export type FilterResource = 'Users' | 'Groups';
export type FilterAttribute<R extends FilterResource> = R extends 'Users'
  ? UserFilterAttribute
  : GroupFilterAttribute;

const ALLOWED: Record<FilterResource, readonly string[]> = {
  Users: USER_FILTER_ATTRIBUTES,
  Groups: GROUP_FILTER_ATTRIBUTES,
};

function checkAttribute(resource: FilterResource, attribute: string): void {
  const allowed = ALLOWED[resource];
  if (allowed === undefined) {
    throw new TypeError(`Unknown SCIM resource for a filter: ${String(resource)}`);
  }
  if (!allowed.includes(attribute)) {
    throw new TypeError(
      `Filtering ${resource} on "${attribute}" is not allowed; use one of ${allowed.join(', ')}`,
    );
  }
}

/**
 * A filter value as an RFC 7159 JSON string literal, quotes included. Throws a TypeError for
 * anything but a string: numbers or booleans would compare differently upstream.
 */
export function quoteFilterValue(value: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`A SCIM filter value must be a string, got ${typeof value}`);
  }
  return JSON.stringify(value);
}

/** `attribute eq "value"` for one allow-listed attribute. */
export function eq<R extends FilterResource>(
  resource: R,
  attribute: FilterAttribute<R>,
  value: string,
): string {
  checkAttribute(resource, attribute);
  return `${attribute} eq ${quoteFilterValue(value)}`;
}

/** `userName eq "…"`-style filter on /Users. */
export const userEq = (attribute: UserFilterAttribute, value: string): string =>
  eq('Users', attribute, value);

/** `displayName eq "…"`-style filter on /Groups. */
export const groupEq = (attribute: GroupFilterAttribute, value: string): string =>
  eq('Groups', attribute, value);

/**
 * `a eq "x" or a eq "y" …` (RFC 7644 §3.4.2.2 logExp). Only for upstreams that support `or`:
 * Keeper's support is undocumented (docs/keeper-scim.md §9.3). Duplicates are dropped, order kept.
 * Throws a RangeError for an empty list (there is no filter that matches nothing).
 */
export function orEq<R extends FilterResource>(
  resource: R,
  attribute: FilterAttribute<R>,
  values: readonly string[],
): string {
  const unique = [...new Set(values)];
  if (unique.length === 0) throw new RangeError('orEq needs at least one value');
  return unique.map((v) => eq(resource, attribute, v)).join(' or ');
}

/** How a query parameter value is encoded by the client (and therefore measured here). */
const encodeQueryValue = (value: string): string => encodeURIComponent(value);

export type ChunkOptions = {
  /**
   * Length of the request URL without the filter parameter, e.g.
   * `https://keepersecurity.eu/api/rest/scim/v2/123/Users?count=500`. The `?`/`&` and
   * `filter=` that the client adds are accounted for here.
   */
  urlLengthWithoutFilter: number;
  /**
   * Longest URL to produce. 2000 is the conservative limit that survives every proxy and server
   * commonly in front of an API (RFC 9110 §4.1 recommends supporting at least 8000 octets, but
   * does not require it).
   * @default 2000
   */
  maxUrlLength?: number;
  /**
   * Most `eq` terms in one chain, whatever their length.
   * @default 100
   */
  maxTerms?: number;
};

const OR_SEPARATOR = ' or ';

/**
 * Splits `values` into `or` chains whose encoded URL stays within `maxUrlLength`. Duplicates are
 * dropped and order is kept. A single value too long to fit on its own still gets a chain of its
 * own (the upstream decides whether it can take it): a value is never silently dropped.
 */
export function chunkOrEq<R extends FilterResource>(
  resource: R,
  attribute: FilterAttribute<R>,
  values: readonly string[],
  options: ChunkOptions,
): string[] {
  checkAttribute(resource, attribute);
  const maxUrl = options.maxUrlLength ?? 2000;
  const maxTerms = options.maxTerms ?? 100;
  // '?' or '&' + 'filter=' before the encoded filter.
  const budget = maxUrl - options.urlLengthWithoutFilter - 1 - 'filter='.length;
  const sepLength = encodeQueryValue(OR_SEPARATOR).length;

  const chunks: string[] = [];
  let terms: string[] = [];
  let length = 0;
  for (const value of new Set(values)) {
    const term = eq(resource, attribute, value);
    // encodeURIComponent works character by character, so encoded lengths add up.
    const termLength = encodeQueryValue(term).length;
    const extra = terms.length === 0 ? termLength : sepLength + termLength;
    if (terms.length > 0 && (length + extra > budget || terms.length >= maxTerms)) {
      chunks.push(terms.join(OR_SEPARATOR));
      terms = [term];
      length = termLength;
    } else {
      terms.push(term);
      length += extra;
    }
  }
  if (terms.length > 0) chunks.push(terms.join(OR_SEPARATOR));
  return chunks;
}
