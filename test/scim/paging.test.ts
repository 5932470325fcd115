import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FetchPage, pageAll } from '../../src/scim/paging.ts';
import type { ListResponse } from '../../src/scim/schemas.ts';

type Item = { id: string };
const items = (n: number): Item[] => Array.from({ length: n }, (_, i) => ({ id: `u${i + 1}` }));

type Quirks = {
  /** Echo the requested count as itemsPerPage (Keeper may). */
  echoCount?: boolean;
  /** Return the first page for a startIndex past the end. */
  wrapPastEnd?: boolean;
  /** Never return more than this per page, whatever was asked. */
  cap?: number;
  /** Lie about totalResults. */
  total?: number;
};

/** A fake upstream page function over `all`, recording every call. */
function upstream(all: Item[], quirks: Quirks = {}) {
  const calls: [number, number][] = [];
  const fetch: FetchPage<Item> = async (startIndex, count) => {
    calls.push([startIndex, count]);
    const size = Math.min(count, quirks.cap ?? count);
    let from = startIndex - 1;
    if (from >= all.length && quirks.wrapPastEnd) from = 0;
    const Resources = all.slice(from, from + size);
    const page: ListResponse<Item> = {
      totalResults: quirks.total ?? all.length,
      startIndex,
      itemsPerPage: quirks.echoCount ? count : Resources.length,
      Resources,
    };
    return page;
  };
  return { fetch, calls };
}

describe('pageAll', () => {
  it('collects k·count items in k pages, starting at 1', async () => {
    const { fetch, calls } = upstream(items(6));
    const result = await pageAll(fetch, { pageSize: 3 });
    expect(result).toMatchObject({ totalResults: 6, complete: true, stop: 'complete', pages: 2 });
    expect(result.Resources).toEqual(items(6));
    expect(calls).toEqual([
      [1, 3],
      [4, 3],
    ]);
  });

  it('does not drop the last item at k·count + 1 (Keeper clients do)', async () => {
    const { fetch, calls } = upstream(items(7), { echoCount: true });
    const result = await pageAll(fetch, { pageSize: 3 });
    expect(result.Resources).toEqual(items(7));
    expect(result.complete).toBe(true);
    expect(calls.map(([s]) => s)).toEqual([1, 4, 7]);
  });

  it('advances by the items returned, not by itemsPerPage or count, when the server caps pages', async () => {
    const { fetch, calls } = upstream(items(10), { cap: 4, echoCount: true });
    const result = await pageAll(fetch, { pageSize: 500 });
    expect(result.Resources).toEqual(items(10));
    expect(calls.map(([s]) => s)).toEqual([1, 5, 9]);
  });

  it('stops on an empty page and says the list is incomplete', async () => {
    const { fetch } = upstream(items(5), { total: 9 });
    const result = await pageAll(fetch, { pageSize: 2 });
    expect(result).toMatchObject({ complete: false, stop: 'empty-page', totalResults: 9 });
    expect(result.Resources).toEqual(items(5));
  });

  it('does not loop when a startIndex past the end returns the first page again', async () => {
    const { fetch, calls } = upstream(items(5), { wrapPastEnd: true, total: 8 });
    const result = await pageAll(fetch, { pageSize: 2 });
    expect(result).toMatchObject({ complete: false, stop: 'repeated-page' });
    expect(result.Resources).toEqual(items(5));
    expect(calls.map(([s]) => s)).toEqual([1, 3, 5, 6]);
  });

  it('keeps the new items of an overlapping page and deduplicates by id', async () => {
    const all = items(6);
    // The second page repeats u2 (an insert shifted the list) and brings u3..u4.
    const pagesByStart = new Map<number, Item[]>([
      [1, all.slice(0, 2)],
      [3, [all[1] as Item, all[2] as Item, all[3] as Item]],
      [6, all.slice(4, 6)],
    ]);
    const result = await pageAll(
      async (startIndex) => ({
        totalResults: 6,
        Resources: pagesByStart.get(startIndex) ?? [],
      }),
      { pageSize: 2 },
    );
    expect(result.Resources).toEqual(all);
    expect(result.complete).toBe(true);
  });

  it('handles an empty list with one call', async () => {
    const { fetch, calls } = upstream([]);
    expect(await pageAll(fetch)).toMatchObject({ Resources: [], complete: true, pages: 1 });
    expect(calls).toEqual([[1, 500]]);
  });

  it('stops at maxPages with a truncation reason', async () => {
    const { fetch, calls } = upstream(items(10));
    const result = await pageAll(fetch, { pageSize: 2, maxPages: 3 });
    expect(result).toMatchObject({ complete: false, stop: 'max-pages', pages: 3 });
    expect(result.Resources).toHaveLength(6);
    expect(calls).toHaveLength(3);
  });

  it('stops at maxItems and cuts the result to it', async () => {
    const { fetch } = upstream(items(10));
    const result = await pageAll(fetch, { pageSize: 4, maxItems: 5 });
    expect(result).toMatchObject({ complete: false, stop: 'max-items' });
    expect(result.Resources).toEqual(items(5));
  });

  it('reports complete when the cap and the total coincide', async () => {
    const { fetch } = upstream(items(4));
    expect(await pageAll(fetch, { pageSize: 2, maxItems: 4 })).toMatchObject({ complete: true });
  });

  it('refuses nonsensical limits', async () => {
    const { fetch } = upstream(items(1));
    await expect(pageAll(fetch, { pageSize: 0 })).rejects.toThrow(RangeError);
    await expect(pageAll(fetch, { maxPages: 1.5 })).rejects.toThrow(RangeError);
  });

  it('passes a page failure through', async () => {
    await expect(
      pageAll(async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});

describe('pageAll in parallel (concurrency > 1)', () => {
  it('asks every page at once when the size is known, and never past the end', async () => {
    const { fetch, calls } = upstream(items(7));
    const result = await pageAll(fetch, { pageSize: 3, concurrency: 8, expectedTotal: 7 });
    expect(result).toMatchObject({ complete: true, stop: 'complete', pages: 3 });
    expect(result.Resources).toEqual(items(7));
    expect(calls).toEqual([
      [1, 3],
      [4, 3],
      [7, 1],
    ]);
  });

  it('reads the first page for the size when it is not known, then the rest together', async () => {
    const { fetch, calls } = upstream(items(10));
    const result = await pageAll(fetch, { pageSize: 3, concurrency: 8 });
    expect(result.Resources).toEqual(items(10));
    expect(calls.map(([s]) => s)).toEqual([1, 4, 7, 10]);
  });

  it('fills the gaps a capped page leaves, in the size the server gives', async () => {
    const { fetch, calls } = upstream(items(10), { cap: 2, echoCount: true });
    const result = await pageAll(fetch, { pageSize: 5, concurrency: 4, expectedTotal: 10 });
    expect(result.Resources).toEqual(items(10));
    expect(result.complete).toBe(true);
    expect(calls.map(([s]) => s).sort((a, b) => a - b)).toEqual([1, 3, 5, 6, 8, 10]);
  });

  it('ignores a page past the end that wraps to the first page (stale expected total)', async () => {
    const { fetch } = upstream(items(5), { wrapPastEnd: true });
    const result = await pageAll(fetch, { pageSize: 2, concurrency: 4, expectedTotal: 9 });
    expect(result).toMatchObject({ complete: true, totalResults: 5 });
    expect(result.Resources).toEqual(items(5));
  });

  it('reads the tail when the list grew past the expected total', async () => {
    const { fetch } = upstream(items(9));
    const result = await pageAll(fetch, { pageSize: 2, concurrency: 4, expectedTotal: 4 });
    expect(result).toMatchObject({ complete: true, totalResults: 9 });
    expect(result.Resources).toEqual(items(9));
  });

  it('ends without looping when the total lies and the server wraps', async () => {
    const { fetch, calls } = upstream(items(5), { wrapPastEnd: true, total: 8 });
    const result = await pageAll(fetch, { pageSize: 2, concurrency: 3 });
    expect(result).toMatchObject({ complete: false, stop: 'repeated-page' });
    expect(result.Resources).toEqual(items(5));
    expect(calls.length).toBeLessThanOrEqual(6);
  });

  it('stops at an empty page inside the counted range', async () => {
    const { fetch } = upstream(items(5), { total: 9 });
    const result = await pageAll(fetch, { pageSize: 2, concurrency: 3 });
    expect(result).toMatchObject({ complete: false, stop: 'empty-page', totalResults: 9 });
    expect(result.Resources).toEqual(items(5));
  });

  it('stops at maxItems and maxPages', async () => {
    const items10 = upstream(items(10));
    expect(
      await pageAll(items10.fetch, { pageSize: 4, maxItems: 5, concurrency: 4 }),
    ).toMatchObject({ complete: false, stop: 'max-items', Resources: items(5) });
    const paged = upstream(items(10));
    const result = await pageAll(paged.fetch, { pageSize: 2, maxPages: 3, concurrency: 2 });
    expect(result).toMatchObject({ complete: false, stop: 'max-pages', pages: 3 });
    expect(paged.calls).toHaveLength(3);
  });

  it('collects every item once, in order, whatever the quirks, size hint and concurrency', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          n: fc.integer({ min: 0, max: 60 }),
          pageSize: fc.integer({ min: 1, max: 12 }),
          cap: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
          echoCount: fc.boolean(),
          wrapPastEnd: fc.boolean(),
          concurrency: fc.integer({ min: 2, max: 8 }),
          hint: fc.option(fc.integer({ min: -10, max: 10 }), { nil: undefined }),
        }),
        async ({ n, pageSize, cap, echoCount, wrapPastEnd, concurrency, hint }) => {
          const quirks = { echoCount, wrapPastEnd, ...(cap === undefined ? {} : { cap }) };
          const { fetch, calls } = upstream(items(n), quirks);
          const expectedTotal = hint === undefined ? undefined : Math.max(0, n + hint);
          const result = await pageAll(fetch, { pageSize, concurrency, expectedTotal });
          expect(result.Resources).toEqual(items(n));
          expect(result.complete).toBe(true);
          // Every position asked at most about twice (once in a wave, once to fill a gap).
          const size = Math.min(pageSize, cap ?? pageSize);
          const bound = 2 * Math.ceil(Math.max(n, expectedTotal ?? 0, 1) / size) + 2;
          expect(calls.length).toBeLessThanOrEqual(bound);
        },
      ),
      { numRuns: 500 },
    );
  });
});
