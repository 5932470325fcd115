import type { ListResponse } from './schemas.ts';

// Pages through a SCIM list (RFC 7644 §3.4.2.4) the way Keeper needs (keeper-scim.md §4):
// - `startIndex` is 1-based and advances by the number of Resources actually returned: never by
//   `itemsPerPage` (Keeper may echo the requested count) nor by `count` (a server may cap it);
// - a short page is not the end: only `totalResults` reached or an empty page is;
// - Keeper's own clients stop at `startIndex + itemsPerPage >= totalResults` and lose the last
//   item when totalResults = k·count + 1; here the test is "collected ≥ totalResults";
// - a server that answers a `startIndex` past the end with the first page again is caught: a page
//   that brings no new id ends the walk (ids are deduplicated, so overlapping pages caused by
//   concurrent inserts only add their new items);
// - hard caps on pages and items; hitting one ends the walk with `complete: false` and the reason,
//   never an endless loop and never a silent partial answer.

/** Why a walk ended. Only `complete` means every item counted by `totalResults` was collected. */
export type PagingStop = 'complete' | 'empty-page' | 'repeated-page' | 'max-pages' | 'max-items';

export type PagingOptions = {
  /**
   * `count` asked for on every page. Keeper's own clients use 500 (keeper-scim.md §4).
   * @default 500
   */
  pageSize?: number;
  /**
   * Pages to fetch at most.
   * @default 200
   */
  maxPages?: number;
  /**
   * Items to collect at most; the result is cut to this many.
   * @default 50000
   */
  maxItems?: number;
};

export const PAGING_DEFAULTS = { pageSize: 500, maxPages: 200, maxItems: 50_000 } as const;

export type ListAllResult<T> = {
  /** Deduplicated by id, in the order first seen. */
  Resources: T[];
  /** `totalResults` of the last page fetched. */
  totalResults: number;
  /** Every counted item was collected (`stop === 'complete'`). */
  complete: boolean;
  stop: PagingStop;
  pages: number;
};

export type FetchPage<T> = (startIndex: number, count: number) => Promise<ListResponse<T>>;

export async function pageAll<T extends { id: string }>(
  fetchPage: FetchPage<T>,
  options: PagingOptions = {},
): Promise<ListAllResult<T>> {
  const pageSize = positiveInt(options.pageSize ?? PAGING_DEFAULTS.pageSize, 'pageSize');
  const maxPages = positiveInt(options.maxPages ?? PAGING_DEFAULTS.maxPages, 'maxPages');
  const maxItems = positiveInt(options.maxItems ?? PAGING_DEFAULTS.maxItems, 'maxItems');

  const byId = new Map<string, T>();
  let startIndex = 1;
  let totalResults = 0;
  let pages = 0;

  const done = (stop: PagingStop): ListAllResult<T> => {
    const Resources = [...byId.values()].slice(0, maxItems);
    return { Resources, totalResults, complete: stop === 'complete', stop, pages };
  };

  for (;;) {
    if (pages >= maxPages) return done('max-pages');
    const page = await fetchPage(startIndex, pageSize);
    pages += 1;
    totalResults = page.totalResults;
    const got = page.Resources.length;
    if (got === 0) return done(byId.size >= totalResults ? 'complete' : 'empty-page');

    let fresh = 0;
    for (const resource of page.Resources) {
      if (!byId.has(resource.id)) {
        byId.set(resource.id, resource);
        fresh += 1;
      }
    }
    if (byId.size >= totalResults) return done('complete');
    if (fresh === 0) return done('repeated-page');
    if (byId.size >= maxItems) return done('max-items');
    startIndex += got;
  }
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
