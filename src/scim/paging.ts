import type { ListResponse } from './schemas.ts';

// Pages through a SCIM list (RFC 7644 §3.4.2.4) the way Keeper needs (docs/keeper-scim.md §4):
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
// With `concurrency` above 1 the walk is planned from the size instead (`expectedTotal`, else the
// first page's `totalResults`): every page up to the total is asked at once, at most
// `concurrency` in flight, in waves. A wave fills the gaps left by the one before: a page capped
// below the count asked leaves a gap, filled next wave in pieces of the size the server gave, and
// a total that grew adds its tail. A wave that covers nothing new ends the walk, so it cannot
// loop; a page asked past its own `totalResults` (a wrap to the first page, or a stale expected
// total) is ignored; items are put together in `startIndex` order and deduplicated by id.

/** Why a walk ended. Only `complete` means every item counted by `totalResults` was collected. */
type PagingStop = 'complete' | 'empty-page' | 'repeated-page' | 'max-pages' | 'max-items';

export type PagingOptions = {
  /**
   * `count` asked for on every page. Keeper's own clients use 500 (docs/keeper-scim.md §4).
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
  /**
   * Pages in flight at once. Above 1, the pages are planned from the total and asked in parallel.
   * @default 1 (one page after the other)
   */
  concurrency?: number;
  /** The list's size if already known (e.g. counted earlier): the first wave needs no first page. */
  expectedTotal?: number;
};

const PAGING_DEFAULTS = { pageSize: 500, maxPages: 200, maxItems: 50_000 } as const;

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
  const concurrency = positiveInt(options.concurrency ?? 1, 'concurrency');
  if (concurrency > 1 || options.expectedTotal !== undefined) {
    return pageInWaves(fetchPage, {
      pageSize,
      maxPages,
      maxItems,
      concurrency,
      expectedTotal: options.expectedTotal,
    });
  }

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

type WaveOptions = {
  pageSize: number;
  maxPages: number;
  maxItems: number;
  concurrency: number;
  expectedTotal: number | undefined;
};

async function pageInWaves<T extends { id: string }>(
  fetchPage: FetchPage<T>,
  options: WaveOptions,
): Promise<ListAllResult<T>> {
  const { pageSize, maxPages, maxItems, concurrency } = options;
  /** startIndex → the resources of a page that answered inside the list. */
  const pages = new Map<number, T[]>();
  let total = options.expectedTotal;
  let calls = 0;
  let step = pageSize;
  let stop: PagingStop | undefined;

  const fetchOne = async (startIndex: number, count: number) => {
    calls += 1;
    const page = await fetchPage(startIndex, count);
    total = page.totalResults;
    const got = page.Resources.length;
    // Past the end by the page's own count: a server that wraps around, or a stale expected
    // total. Nothing there belongs to this position.
    if (startIndex > page.totalResults) return;
    if (got === 0) {
      stop ??= 'empty-page';
      return;
    }
    pages.set(startIndex, page.Resources);
    // Fewer than asked before the end: the server caps its pages; fill the rest in its size.
    if (got < count && startIndex + got - 1 < page.totalResults) step = Math.min(step, got);
  };

  // Without a size, or with an expected size of 0, the first page tells it.
  if (!total) await fetchOne(1, pageSize);
  for (;;) {
    if (stop) break;
    const target = Math.min(total ?? 0, maxItems);
    const requests = gaps(pages, target).flatMap(([from, to]) => {
      const pieces: [number, number][] = [];
      for (let start = from; start <= to; start += step) {
        pieces.push([start, Math.min(step, to - start + 1)]);
      }
      return pieces;
    });
    if (requests.length === 0) break;
    const coveredBefore = covered(pages);
    let next = 0;
    const worker = async () => {
      while (next < requests.length && !stop) {
        if (calls >= maxPages) {
          stop = 'max-pages';
          return;
        }
        const [start, count] = requests[next++] as [number, number];
        await fetchOne(start, count);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
    if (!stop && covered(pages) === coveredBefore) stop = 'repeated-page';
  }

  // Put together in list order; a page that brought nothing new means the server repeated one.
  const byId = new Map<string, T>();
  let repeated = false;
  for (const start of [...pages.keys()].sort((a, b) => a - b)) {
    let fresh = 0;
    for (const resource of pages.get(start) ?? []) {
      if (!byId.has(resource.id)) {
        byId.set(resource.id, resource);
        fresh += 1;
      }
    }
    if (fresh === 0) repeated = true;
  }
  const totalResults = total ?? 0;
  const result: PagingStop =
    byId.size >= totalResults
      ? 'complete'
      : (stop ??
        (totalResults > maxItems ? 'max-items' : repeated ? 'repeated-page' : 'empty-page'));
  return {
    Resources: [...byId.values()].slice(0, maxItems),
    totalResults,
    complete: result === 'complete',
    stop: result,
    pages: calls,
  };
}

/** Positions 1…target not covered by any page, as inclusive ranges. */
function gaps<T>(pages: Map<number, T[]>, target: number): [number, number][] {
  const result: [number, number][] = [];
  let next = 1;
  for (const start of [...pages.keys()].sort((a, b) => a - b)) {
    if (start > next) result.push([next, Math.min(start - 1, target)]);
    next = Math.max(next, start + (pages.get(start)?.length ?? 0));
    if (next > target) break;
  }
  if (next <= target) result.push([next, target]);
  return result.filter(([from, to]) => from <= to);
}

/** How many positions the pages cover (overlaps counted once). */
function covered<T>(pages: Map<number, T[]>): number {
  let count = 0;
  let next = 1;
  for (const start of [...pages.keys()].sort((a, b) => a - b)) {
    const end = start + (pages.get(start)?.length ?? 0);
    if (end > next) {
      count += end - Math.max(start, next);
      next = end;
    }
  }
  return count;
}

function positiveInt(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}
