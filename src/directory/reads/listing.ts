import { type UserModel, userNameKey } from '../../model.ts';
import { userEq } from '../../scim/filter.ts';
import type { ReadEnv } from './env.ts';
import { lazySource, type OffsetSource } from './source.ts';
import type { UserReads } from './users.ts';

// The `users` list: upstream paging, an exact upstream filter, or the request's user scan.

export type UserFilter = {
  userName?: string | null;
  externalId?: string | null;
  active?: boolean | null;
  search?: string | null;
};

/** Whether a user meets every given condition of `filter`. */
function matcher(filter: UserFilter) {
  const needle = filter.search?.toLowerCase();
  return (u: UserModel) =>
    (filter.active == null || u.active === filter.active) &&
    (filter.userName == null || userNameKey(u.userName) === userNameKey(filter.userName)) &&
    (filter.externalId == null || u.externalId === filter.externalId) &&
    (needle === undefined ||
      [u.userName, u.displayName, u.name?.givenName, u.name?.familyName].some((s) =>
        s?.toLowerCase().includes(needle),
      ));
}

/** Where a page of `users` comes from: upstream paging, an exact upstream filter, or the scan. */
export function userListing(
  env: ReadEnv,
  users: UserReads,
  filter: UserFilter,
): OffsetSource<UserModel> {
  const { scim, upstream, call } = env;
  const matches = matcher(filter);
  if (filter.userName != null) {
    const exact = users.byUserName.load(filter.userName);
    return lazySource(async () =>
      [await exact].filter((u): u is UserModel => u !== null && matches(u)),
    );
  }
  if (filter.externalId != null) {
    const { externalId } = filter;
    return lazySource(async () => {
      const { Resources } = await scim.users.listAll(
        { filter: userEq('externalId', externalId) },
        call,
      );
      users.prime(Resources);
      return Resources.filter(matches);
    });
  }
  if (filter.active != null || filter.search != null) {
    return lazySource(async () => (await users.allUsers()).filter(matches));
  }
  return {
    async page(offset, limit) {
      if (users.hasScanned()) {
        const all = await users.allUsers();
        return { items: all.slice(offset, offset + limit), totalCount: all.length };
      }
      const page = await scim.users.list({ startIndex: offset + 1, count: limit }, call);
      upstream.observeUserCount(page.totalResults);
      // Keeper may answer a startIndex past the end with the first page again (docs/design.md).
      const items = offset >= page.totalResults ? [] : page.Resources.slice(0, limit);
      users.prime(items);
      return { items, totalCount: page.totalResults };
    },
    async count() {
      const page = await scim.users.list({ startIndex: 1, count: 1 }, call);
      users.prime(page.Resources);
      return page.totalResults;
    },
  };
}
