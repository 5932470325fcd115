// Lists the directory hands to the schema's connections: offset-paged sources (SCIM lists are
// 1-based startIndex + count; these are 0-based), whatever they are read from.

export type Page<T> = { items: readonly T[]; totalCount: number };

export type OffsetSource<T> = {
  /** Items from `offset` (0-based), at most `limit`, and the size of the whole list. */
  page(offset: number, limit: number): Promise<Page<T>>;
  /** The size of the whole list; only asked for `last` without `before`. */
  count(): Promise<number>;
};

/** A list already in memory (group snapshots, member ids). */
export function arraySource<T>(list: readonly T[]): OffsetSource<T> {
  return {
    page: async (offset, limit) => ({
      items: list.slice(offset, offset + limit),
      totalCount: list.length,
    }),
    count: async () => list.length,
  };
}

/** A list read on first use, once. */
export function lazySource<T>(load: () => Promise<readonly T[]>): OffsetSource<T> {
  let list: Promise<readonly T[]> | undefined;
  const get = () => {
    list ??= load();
    return list;
  };
  return {
    page: async (offset, limit) => arraySource(await get()).page(offset, limit),
    count: async () => (await get()).length,
  };
}

/** Maps a page of keys to objects (e.g. member ids to users), dropping keys that resolve to null. */
export function mappedSource<K, T>(
  keys: readonly K[],
  load: (keys: readonly K[]) => Promise<readonly (T | null)[]>,
): OffsetSource<T> {
  return {
    page: async (offset, limit) => {
      const loaded = await load(keys.slice(offset, offset + limit));
      return { items: loaded.filter((x): x is T => x !== null), totalCount: keys.length };
    },
    count: async () => keys.length,
  };
}
