import { createHash } from 'node:crypto';
import {
  compareKeys,
  groupSortKey,
  lowerBound,
  type MirrorGroup,
  type MirrorUser,
  type Snapshot,
  type UserOrderField,
  userSortKey,
} from './snapshot.ts';

// Questions over one snapshot, as pure functions: no upstream call, no clock. Lists are in a
// total order, (sort key, id), and paged by keyset cursors: a cursor names the last item's key
// and id, so the next page starts right after that position whatever was created, locked or
// removed since; an offset would shift. A cursor is bound to its list (which connection, with
// which filter) and its order: one from elsewhere is refused with MirrorCursorError.

export class MirrorCursorError extends Error {
  /** The schema maps it to BAD_USER_INPUT naming `argument`. */
  readonly code = 'BAD_USER_INPUT';
  constructor(
    readonly argument: 'after' | 'before',
    reason: string,
  ) {
    super(`The \`${argument}\` cursor ${reason}; start again without it`);
    this.name = 'MirrorCursorError';
  }
}

export type Direction = 'ASC' | 'DESC';

export type UserFilter = {
  active?: boolean | undefined;
  /** Case-insensitive substring of userName, displayName, given or family name, or e-mail. */
  search?: string | undefined;
  teamId?: string | undefined;
  roleId?: string | undefined;
  externalIdPresent?: boolean | undefined;
};

export type UserOrder = { field: UserOrderField; direction: Direction };

export type PageArgs = {
  first?: number | undefined;
  after?: string | undefined;
  last?: number | undefined;
  before?: string | undefined;
};

export type Page<T> = {
  edges: { readonly cursor: string; readonly node: T }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor: string | null;
    endCursor: string | null;
  };
  /** Every item of the list (all pages), counted when asked. */
  totalCount(): number;
};

/**
 * An edge of a page. Its cursor (a JSON array in base64url, about 1 µs) is encoded when first read:
 * most queries select the nodes and at most the page's end cursor.
 */
class PageEdge<T, I> {
  #cursor: string | undefined;
  constructor(
    readonly node: T,
    /** The item the cursor names (the node before `mapPage`). */
    private readonly item: I,
    private readonly encode: (item: I) => string,
  ) {}
  get cursor(): string {
    this.#cursor ??= this.encode(this.item);
    return this.#cursor;
  }
  /** The same edge (same cursor) with another node. */
  map<U>(node: U): PageEdge<U, I> {
    return new PageEdge(node, this.item, this.encode);
  }
}

/**
 * Where a page sits, its cursors read from its edges when asked. A class, not an object literal
 * with getters: V8 builds those by a slow path, once per page.
 */
class PageInfo {
  constructor(
    private readonly edges: readonly { readonly cursor: string }[],
    readonly hasNextPage: boolean,
    readonly hasPreviousPage: boolean,
  ) {}
  get startCursor(): string | null {
    return this.edges[0]?.cursor ?? null;
  }
  get endCursor(): string | null {
    return this.edges.at(-1)?.cursor ?? null;
  }
}

/** The page with each node mapped by `map`; cursors, page info and count unchanged. */
export function mapPage<M, T>(page: Page<M>, map: (m: M) => T): Page<T> {
  const edges = page.edges.map((edge) =>
    edge instanceof PageEdge
      ? (edge as PageEdge<M, unknown>).map(map(edge.node))
      : { cursor: edge.cursor, node: map(edge.node) },
  );
  const { hasNextPage, hasPreviousPage } = page.pageInfo;
  return {
    edges,
    // Over the mapped edges, so that a cursor read as an edge's and as the page's end is encoded once.
    pageInfo: new PageInfo(edges, hasNextPage, hasPreviousPage),
    totalCount: () => page.totalCount(),
  };
}

/** When neither `first` nor `last` is given (the schema's default). */
export const DEFAULT_PAGE_SIZE = 20;

/** Groups up to this size are sorted for a members list; bigger ones filter the node's order. */
const SORT_MEMBERS_UP_TO = 2_000;

const DEFAULT_USER_ORDER: UserOrder = { field: 'USER_NAME', direction: 'ASC' };

/** Users of the node, filtered and ordered. */
export function queryUsers(
  snapshot: Snapshot,
  args: { filter?: UserFilter | undefined; orderBy?: UserOrder | undefined } & PageArgs,
): Page<MirrorUser> {
  const filter = args.filter ?? {};
  const order = args.orderBy ?? DEFAULT_USER_ORDER;
  const groupId = filter.teamId ?? filter.roleId;
  let match = userMatcher(filter);
  let source: readonly MirrorUser[];
  if (groupId !== undefined) {
    const group = snapshot.groups.get(groupId);
    const kind = filter.teamId !== undefined ? 'Team' : 'Role';
    // Both ids given must name the same group; a team id is not a role id.
    if (
      !group ||
      group.kind !== kind ||
      (filter.teamId !== undefined &&
        filter.roleId !== undefined &&
        filter.teamId !== filter.roleId)
    ) {
      source = [];
    } else {
      ({ source, match } = membersSource(snapshot, group, order.field, match));
    }
  } else {
    source = snapshot.userOrder(order.field);
  }
  return userPage(source, ['users', filter], order, match, args);
}

/** Members of a team or role (`undefined` when there is no such group). */
export function queryMembers(
  snapshot: Snapshot,
  groupId: string,
  args: {
    filter?: { active?: boolean | undefined } | undefined;
    orderBy?: UserOrder | undefined;
  } & PageArgs,
): Page<MirrorUser> | undefined {
  const group = snapshot.groups.get(groupId);
  if (!group) return undefined;
  const order = args.orderBy ?? DEFAULT_USER_ORDER;
  const { source, match } = membersSource(
    snapshot,
    group,
    order.field,
    userMatcher({ active: args.filter?.active }),
  );
  const page = userPage(source, ['members', groupId, args.filter ?? {}], order, match, args);
  // Unfiltered, the count is the group's own (its members are all users of the snapshot).
  return args.filter?.active === undefined
    ? { ...page, totalCount: () => group.members.size }
    : page;
}

/** A page of users in `order`, of the list named by `list`. */
function userPage(
  source: readonly MirrorUser[],
  list: unknown,
  order: UserOrder,
  match: ((u: MirrorUser) => boolean) | undefined,
  args: PageArgs,
): Page<MirrorUser> {
  return pageOf(source, {
    list,
    order: `${order.field}:${order.direction}`,
    desc: order.direction === 'DESC',
    keyOf: (u) => userSortKey(u, order.field),
    match,
    args,
  });
}

/** Teams or roles of the node, ordered by name. */
export function queryGroups(
  snapshot: Snapshot,
  kind: 'Team' | 'Role',
  args: { nameContains?: string | undefined; orderBy?: { direction: Direction } } & PageArgs,
): Page<MirrorGroup> {
  const needle = args.nameContains?.toLowerCase();
  const direction = args.orderBy?.direction ?? 'ASC';
  return pageOf(snapshot.groupOrder(), {
    list: [kind, needle ?? null],
    order: `NAME:${direction}`,
    desc: direction === 'DESC',
    keyOf: groupSortKey,
    match: (g) => g.kind === kind && (needle === undefined || groupSortKey(g).includes(needle)),
    args,
  });
}

export type Counts = {
  users: number;
  activeUsers: number;
  lockedUsers: number;
  teams: number;
  roles: number;
};

export function counts(snapshot: Snapshot): Counts {
  let active = 0;
  for (const u of snapshot.users.values()) if (u.active) active++;
  let teams = 0;
  for (const g of snapshot.groups.values()) if (g.kind === 'Team') teams++;
  return {
    users: snapshot.users.size,
    activeUsers: active,
    lockedUsers: snapshot.users.size - active,
    teams,
    roles: snapshot.groups.size - teams,
  };
}

/** The filter as one test; `undefined` when it has no condition (every user matches). */
function userMatcher(filter: UserFilter): ((u: MirrorUser) => boolean) | undefined {
  const tests: ((u: MirrorUser) => boolean)[] = [];
  if (filter.active !== undefined) tests.push((u) => u.active === filter.active);
  if (filter.externalIdPresent !== undefined) {
    tests.push((u) => (u.externalId !== undefined) === filter.externalIdPresent);
  }
  const needle = filter.search?.toLowerCase();
  if (needle) tests.push((u) => searchText(u).includes(needle));
  if (tests.length === 0) return undefined;
  return (u) => tests.every((t) => t(u));
}

/**
 * The text a search looks in, made once per user and kept on it (replaced with the user): the
 * attributes joined by a character no needle of printable text can span.
 */
function searchText(u: MirrorUser): string {
  u.search ??= [u.userName, u.displayName, u.givenName, u.familyName, u.email]
    .filter((v) => v !== undefined)
    .join('\u0000')
    .toLowerCase();
  return u.search;
}

function membersSource(
  snapshot: Snapshot,
  group: MirrorGroup,
  field: UserOrderField,
  match: ((u: MirrorUser) => boolean) | undefined,
): { source: readonly MirrorUser[]; match: ((u: MirrorUser) => boolean) | undefined } {
  if (group.members.size > SORT_MEMBERS_UP_TO) {
    return {
      source: snapshot.userOrder(field),
      match: (u) => group.members.has(u.id) && (match === undefined || match(u)),
    };
  }
  const keyed: { k: string; u: MirrorUser }[] = [];
  for (const id of group.members) {
    const u = snapshot.users.get(id);
    if (u) keyed.push({ k: userSortKey(u, field), u });
  }
  keyed.sort((a, b) => compareKeys(a.k, a.u.id, b.k, b.u.id));
  return { source: keyed.map((x) => x.u), match };
}

type ListSpec<T> = {
  /** What identifies the list a cursor belongs to (connection and filter). */
  list: unknown;
  order: string;
  desc: boolean;
  keyOf: (t: T) => string;
  /** Which items of `sorted` are in the list; `undefined`: all of them. */
  match: ((t: T) => boolean) | undefined;
  args: PageArgs;
};

const everything = () => true;

/** A Relay page of `sorted` (ascending by key and id) in the requested direction. */
function pageOf<T extends { id: string }>(sorted: readonly T[], spec: ListSpec<T>): Page<T> {
  const { keyOf, desc, args } = spec;
  const match = spec.match ?? everything;
  const n = sorted.length;
  const at = (j: number) => sorted[desc ? n - 1 - j : j] as T;
  // Made when a cursor is encoded or decoded, not for pages whose cursors nobody reads.
  let id: string | undefined;
  const listId = () => {
    id ??= createHash('sha256').update(JSON.stringify(spec.list)).digest('base64url').slice(0, 16);
    return id;
  };
  const encode = (t: T) =>
    Buffer.from(JSON.stringify([1, listId(), spec.order, keyOf(t), t.id])).toString('base64url');
  const decode = (cursor: string, argument: 'after' | 'before') => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      throw new MirrorCursorError(argument, 'is not a cursor of this list');
    }
    if (
      !Array.isArray(parsed) ||
      parsed.length !== 5 ||
      parsed[0] !== 1 ||
      typeof parsed[3] !== 'string' ||
      typeof parsed[4] !== 'string'
    ) {
      throw new MirrorCursorError(argument, 'is not a cursor of this list');
    }
    if (parsed[1] !== listId()) {
      throw new MirrorCursorError(argument, 'belongs to another list or filter');
    }
    if (parsed[2] !== spec.order) {
      throw new MirrorCursorError(argument, `belongs to another order (${String(parsed[2])})`);
    }
    const key = parsed[3] as string;
    const id = parsed[4] as string;
    const lb = lowerBound(sorted, key, id, keyOf, (t) => t.id);
    const exact = lb < n && keyOf(sorted[lb] as T) === key && (sorted[lb] as T).id === id;
    const ub = exact ? lb + 1 : lb;
    // Logical positions (in the requested direction): the first item after the cursor, and the
    // first item at or after it.
    return desc ? { after: n - lb, atOrAfter: n - ub } : { after: ub, atOrAfter: lb };
  };

  for (const [name, value] of [
    ['first', args.first],
    ['last', args.last],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 0)) {
      throw new RangeError(`${name} must be a whole number of at least 0`);
    }
  }
  const start = args.after !== undefined ? decode(args.after, 'after').after : 0;
  const end = args.before !== undefined ? decode(args.before, 'before').atOrAfter : n;
  const anyMatch = (from: number, to: number, step: 1 | -1) => {
    for (let j = from; step > 0 ? j < to : j > to; j += step) if (match(at(j))) return true;
    return false;
  };

  let items: T[] = [];
  let hasNextPage: boolean;
  let hasPreviousPage: boolean;
  if (args.first !== undefined || args.last === undefined) {
    const first = args.first ?? DEFAULT_PAGE_SIZE;
    let j = start;
    for (; j < end && items.length <= first; j++) if (match(at(j))) items.push(at(j));
    hasNextPage = items.length > first;
    items = items.slice(0, first);
    hasPreviousPage = anyMatch(start - 1, -1, -1);
    if (args.last !== undefined && items.length > args.last) {
      items = items.slice(items.length - args.last);
      hasPreviousPage = true;
    }
  } else {
    const last = args.last;
    for (let j = end - 1; j >= start && items.length <= last; j--) {
      if (match(at(j))) items.push(at(j));
    }
    hasPreviousPage = items.length > last;
    items = items.slice(0, last).reverse();
    hasNextPage = anyMatch(end, n, 1);
  }

  const edges = items.map((node) => new PageEdge(node, node, encode));
  let total: number | undefined;
  return {
    edges,
    pageInfo: new PageInfo(edges, hasNextPage, hasPreviousPage),
    totalCount() {
      if (total === undefined) {
        if (spec.match === undefined) total = n;
        else {
          total = 0;
          for (const t of sorted) if (match(t)) total++;
        }
      }
      return total;
    },
  };
}
