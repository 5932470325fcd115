import type { CallOptions, ScimClient } from '../../scim/client.ts';
import type { ListAllResult } from '../../scim/paging.ts';
import type { ScimGroup } from '../../scim/schemas.ts';
import { Snapshot } from './snapshot.ts';

// A full read of the node: every user (its pages in parallel, src/scim/paging.ts) and every
// group, at the same time. Memberships come from User.groups, which Keeper's own clients rely on
// (docs/keeper-scim.md §2.3), so Groups are read without `members` (a few KB instead of every
// membership of the node); only when the users carry no `groups` at all (a server that does not
// return them) are Groups read again with their members. A read that is not complete is a failed
// refresh: a user missing from a partial read would look removed.

export class MirrorReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MirrorReadError';
  }
}

export type ReadOptions = {
  rolePrefix: string;
  pageSize: number;
  /** Pages in flight at once. */
  concurrency: number;
  /** The node's size as last seen: the first wave of pages needs no first page. */
  expectedUsers?: number | undefined;
  /** Whether Group resources carry `members` (KEEPER_GROUP_MEMBERS); `omit` never asks for them. */
  groupMembers: 'auto' | 'include' | 'omit';
  call?: CallOptions;
};

/** Far above any node; the read is bounded by the upstream's `totalResults`. */
const MAX_ITEMS = 10_000_000;

function complete<T>(what: string, result: ListAllResult<T>): T[] {
  if (!result.complete) {
    throw new MirrorReadError(
      `The full read of ${what} ended early (${result.stop} after ${result.Resources.length} of ${result.totalResults}); the mirror keeps its previous snapshot`,
    );
  }
  return result.Resources;
}

export async function readNode(scim: ScimClient, options: ReadOptions): Promise<Snapshot> {
  const started = Date.now();
  const t0 = performance.now();
  const paging = {
    pageSize: options.pageSize,
    concurrency: options.concurrency,
    maxItems: MAX_ITEMS,
    maxPages: Math.ceil(MAX_ITEMS / options.pageSize),
  };
  const readGroups = (withMembers: boolean) =>
    scim.groups
      .listAll(
        { ...paging, ...(withMembers ? {} : { excludedAttributes: ['members'] }) },
        options.call,
      )
      .then((r) => complete('the groups', r));
  const withMembers = options.groupMembers === 'include';
  const [users, firstGroups] = await Promise.all([
    scim.users
      .listAll({ ...paging, expectedTotal: options.expectedUsers || undefined }, options.call)
      .then((r) => complete('the users', r)),
    readGroups(withMembers),
  ]);
  let groups: ScimGroup[] = firstGroups;
  const usersCarryGroups = users.length === 0 || users.some((u) => u.groups !== undefined);
  if (!withMembers && !usersCarryGroups && options.groupMembers !== 'omit' && groups.length > 0) {
    groups = await readGroups(true);
  }
  return Snapshot.fromScim(
    users,
    groups,
    options.rolePrefix,
    new Date(started),
    performance.now() - t0,
  );
}
