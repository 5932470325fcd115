import {
  cursorToOffset,
  encodeGlobalID,
  offsetForArgs,
  offsetToCursor,
} from '@pothos/plugin-relay';
import { GraphQLError } from 'graphql';
import { z } from 'zod';
import type { Page } from '../directory/lists.ts';
import type { OffsetSource } from '../directory/reads/source.ts';

// Relay connections over offset-paged sources (SCIM lists are 1-based startIndex + count). Pothos'
// offsetForArgs does the cursor arithmetic; this adds what the contract asks for and Pothos does
// not do: `first`/`last` above the maximum are refused with a clear error instead of silently
// clamped, a malformed cursor is a BAD_USER_INPUT error, and `totalCount` is always known.

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export type ConnectionArgs = {
  first?: number | null | undefined;
  last?: number | null | undefined;
  after?: string | null | undefined;
  before?: string | null | undefined;
};

/** A Relay page as the schema returns it: the mirror's page shape, with its count made. */
export type Connection<T> = Omit<Page<T>, 'totalCount'> & { totalCount: number };

/**
 * Longest lookup and filter strings, checked before any upstream call (a 10 MB userName must not
 * become a 10 MB upstream URL): RFC 5321's 254 for e-mail addresses, 256 for names and
 * externalIds (as mutation inputs), 100 for text searched in a scan.
 */
export const MAX_LENGTH = { email: 254, name: 256, externalId: 256, search: 100 } as const;

export const maxLength = (n: number) =>
  z.string().max(n, { error: `must have at most ${n} characters` });

export const badInput = (message: string, argument?: string) =>
  new GraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argument } : {}) },
  });

/**
 * A lookup by name that several teams or roles answer (names compare without case, and Keeper
 * allows two groups with one name): BAD_USER_INPUT with the candidates' global ids, never a
 * silent pick.
 */
export function pickOneByName<T extends { kind: 'Team' | 'Role'; group: { id: string } }>(
  matches: readonly T[],
  name: string,
): T | null {
  if (matches.length <= 1) return matches[0] ?? null;
  const candidates = matches.map((g) => encodeGlobalID(g.kind, g.group.id));
  throw new GraphQLError(
    `${matches.length} ${matches[0]?.kind === 'Role' ? 'roles' : 'teams'} are named "${name}" (compared without case): ${candidates.join(', ')}. Look one up by id.`,
    { extensions: { code: 'BAD_USER_INPUT', argument: 'name', candidates } },
  );
}

/** `first` and `last` within 0…MAX_PAGE_SIZE (any list, offset or keyset cursors). */
export function validatePageSize(args: ConnectionArgs): void {
  checkPageSize('first', args.first);
  checkPageSize('last', args.last);
}

function checkPageSize(name: 'first' | 'last', value: number | null | undefined): void {
  if (value == null) return;
  if (value < 0) throw badInput(`\`${name}\` must not be negative`, name);
  if (value > MAX_PAGE_SIZE) {
    throw badInput(
      `\`${name}\` is ${value}, above the maximum of ${MAX_PAGE_SIZE}; page with \`after\`/\`before\` instead`,
      name,
    );
  }
}

export function validateConnectionArgs(args: ConnectionArgs): void {
  validatePageSize(args);
  // The common case (a first page): nothing more to check.
  if (args.after == null && args.before == null) return;
  for (const name of ['after', 'before'] as const) {
    const cursor = args[name];
    if (cursor == null) continue;
    let offset: number;
    try {
      offset = cursorToOffset(cursor);
    } catch {
      throw badInput(`\`${name}\` is not a cursor of this connection`, name);
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw badInput(`\`${name}\` is not a cursor of this connection`, name);
    }
  }
}

// A cursor depends on its offset only, and most edges of most pages sit at the first offsets: their
// cursors (a base64 string each, ~0.5 µs) are built once and kept.
const KEPT_CURSORS = 1_000;
const cursors: string[] = [];
function cursorAt(offset: number): string {
  if (offset >= KEPT_CURSORS) return offsetToCursor(offset);
  let cursor = cursors[offset];
  if (cursor === undefined) {
    cursor = offsetToCursor(offset);
    cursors[offset] = cursor;
  }
  return cursor;
}

/**
 * A page of `list` (a source the directory gives, or a list in memory, or a promise of either) as
 * a connection. A list in memory is paged at once, without a promise: a page of 50 users has 100
 * such nested connections (teams and roles).
 */
export function resolveOffsetConnection<T>(
  args: ConnectionArgs,
  list: OffsetSource<T> | readonly T[] | Promise<OffsetSource<T> | readonly T[]>,
): Connection<T> | Promise<Connection<T>> {
  if (list instanceof Promise) return list.then((l) => resolveOffsetConnection(args, l));
  validateConnectionArgs(args);
  if (Array.isArray(list)) {
    const items = list as readonly T[];
    const kept =
      args.after == null && args.before == null && args.last == null
        ? keptFirstPage(items, args.first ?? DEFAULT_PAGE_SIZE)
        : undefined;
    return kept ?? arrayConnection(args, items);
  }
  return sourceConnection(args, list as OffsetSource<T>);
}

function arrayConnection<T>(args: ConnectionArgs, items: readonly T[]): Connection<T> {
  const { offset, expectedSize } = window(args, items.length);
  return offsetConnection(offset, items.slice(offset, offset + expectedSize), items.length);
}

/**
 * First pages of frozen lists, by page size. A frozen list is one the directory shares between
 * requests (a mirrored user's teams and roles, kept while the groups do not change): its first
 * page depends on nothing else, so every request that asks gets the same connection.
 */
const firstPages = new WeakMap<readonly unknown[], Map<number, Connection<unknown>>>();
/** The kept first page of `items`; undefined for a list that is not frozen (nothing is kept). */
function keptFirstPage<T>(items: readonly T[], first: number): Connection<T> | undefined {
  let pages = firstPages.get(items);
  if (!pages) {
    if (!Object.isFrozen(items)) return undefined;
    pages = new Map();
    firstPages.set(items, pages);
  }
  let page = pages.get(first) as Connection<T> | undefined;
  if (!page) {
    page = arrayConnection({ first }, items);
    pages.set(first, page as Connection<unknown>);
  }
  return page;
}

async function sourceConnection<T>(
  args: ConnectionArgs,
  source: OffsetSource<T>,
): Promise<Connection<T>> {
  const { offset, expectedSize } = window(
    args,
    countsFromEnd(args) ? await source.count() : undefined,
  );
  // Ask for one item even for an empty page: the list's size comes with it.
  const { items, totalCount } = await source.page(offset, Math.max(expectedSize, 1));
  return offsetConnection(offset, items.slice(0, expectedSize), totalCount);
}

/**
 * Where the page starts and how many items it has (Pothos' offsetForArgs). The list's size is
 * given only when `last` counts from its end: with it, and only then, a window is cut to the list.
 */
function window(args: ConnectionArgs, size: number | undefined) {
  return offsetForArgs({
    args: {
      first: args.first ?? undefined,
      last: args.last ?? undefined,
      after: args.after ?? undefined,
      before: args.before ?? undefined,
    },
    defaultSize: DEFAULT_PAGE_SIZE,
    maxSize: MAX_PAGE_SIZE,
    totalCount: countsFromEnd(args) ? size : undefined,
  });
}

/** `last` without `first` or `before`: the page is counted from the list's end. */
const countsFromEnd = (args: ConnectionArgs) =>
  args.last != null && args.before == null && args.first == null;

function offsetConnection<T>(
  offset: number,
  nodes: readonly T[],
  totalCount: number,
): Connection<T> {
  const edges = nodes.map((node, i) => ({ cursor: cursorAt(offset + i), node }));
  return {
    edges,
    totalCount,
    pageInfo: {
      hasPreviousPage: offset > 0 && totalCount > 0,
      hasNextPage: offset + nodes.length < totalCount,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}
