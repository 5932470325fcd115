import { describe, expect, it } from 'vitest';
import {
  CALL_COST_USERS,
  compare,
  type LookupInput,
  planLookup,
  planScan,
} from '../src/directory/reads/plan.ts';

// Production defaults: 500 users a page, 64 calls in flight per request, a 20 000-user scan limit.
const base: LookupInput = {
  keys: 1,
  orChunks: undefined,
  userCount: 520,
  pageSize: 500,
  concurrency: 64,
  scanLimit: 20_000,
  scanned: false,
};

describe('planLookup', () => {
  it.each([
    // [case, input, strategy, calls, rounds]
    ['one key', {}, 'get', 1, 1],
    ['three keys where `or` is understood', { keys: 3, orChunks: 1 }, 'or', 1, 1],
    ['four keys on Keeper (eq only)', { keys: 4 }, 'get', 4, 1],
    ['eight keys on the demo node: two pages in one round carry less', { keys: 8 }, 'scan', 2, 1],
    ['eight keys on a 5k-user node', { keys: 8, userCount: 5_000 }, 'get', 8, 1],
    [
      '249 keys on the demo node where `or` needs six chunks',
      { keys: 249, orChunks: 6 },
      'scan',
      2,
      1,
    ],
    [
      '50 keys on the 520-user demo node: two pages carry less than 50 exchanges',
      { keys: 50 },
      'scan',
      2,
      1,
    ],
    ['50 keys on the demo node where `or` is understood', { keys: 50, orChunks: 2 }, 'or', 2, 1],
    ['50 keys on a 5k-user node', { keys: 50, userCount: 5_000 }, 'get', 50, 1],
    [
      '50 keys on a 20k-user node: 50 GETs, not 40 pages',
      { keys: 50, userCount: 20_000 },
      'get',
      50,
      1,
    ],
    [
      '50 keys on a 100k-user node (a scan is over the limit)',
      { keys: 50, userCount: 100_000 },
      'get',
      50,
      1,
    ],
    ['346 members on a 100k-user node', { keys: 346, userCount: 100_000 }, 'get', 346, 6],
    ['346 members on the demo node', { keys: 346 }, 'scan', 2, 1],
    [
      '346 members on a 20k-user node: one round of pages beats six of GETs',
      { keys: 346, userCount: 20_000 },
      'scan',
      40,
      1,
    ],
    [
      '346 members on a 20k-user node where `or` is understood',
      { keys: 346, userCount: 20_000, orChunks: 8 },
      'or',
      8,
      1,
    ],
    ['unknown node size: never a scan', { keys: 200, userCount: undefined }, 'get', 200, 4],
    ['a scan already made in this request is free', { keys: 200, scanned: true }, 'scan', 0, 0],
    [
      '8 in flight: 50 GETs take 7 rounds, 10 pages 2',
      { keys: 50, userCount: 5_000, concurrency: 8 },
      'scan',
      10,
      2,
    ],
    [
      '8 in flight, scan over the limit',
      { keys: 50, userCount: 5_000, concurrency: 8, scanLimit: 1_000 },
      'get',
      50,
      7,
    ],
    ['1000 keys on a 100k-user node', { keys: 1000, userCount: 100_000 }, 'get', 1000, 16],
    [
      '1000 keys on a 100k-user node with a 200k limit: 4 rounds of pages beat 16 of GETs',
      { keys: 1000, userCount: 100_000, scanLimit: 200_000 },
      'scan',
      200,
      4,
    ],
    [
      '100 keys on a 100k-user node with a 200k limit: 2 rounds of GETs beat 4 of pages',
      { keys: 100, userCount: 100_000, scanLimit: 200_000 },
      'get',
      100,
      2,
    ],
    [
      'small pages: 50 keys on the demo node in pages of 100',
      { keys: 50, pageSize: 100 },
      'scan',
      6,
      1,
    ],
  ] as const)('%s', (_name, overrides, strategy, calls, rounds) => {
    const plan = planLookup({ ...base, ...overrides });
    expect(plan).toMatchObject({ strategy, calls, rounds });
  });

  it('never picks a scan the scan limit forbids, whatever else it would save', () => {
    for (const userCount of [1, 499, 500, 501, 19_999, 20_000, 20_001, 100_000]) {
      for (const scanLimit of [1, 500, 20_000]) {
        for (const keys of [1, 9, 50, 500, 1000]) {
          const plan = planLookup({ ...base, keys, userCount, scanLimit, concurrency: 4 });
          if (userCount > scanLimit) expect(plan.strategy).not.toBe('scan');
        }
      }
    }
  });

  it('ranks rounds first, then users carried (calls included), then calls', () => {
    expect(
      compare({ calls: 100, rounds: 1, users: 10_000 }, { calls: 1, rounds: 2, users: 1 }),
    ).toBeLessThan(0);
    expect(
      compare({ calls: 2, rounds: 1, users: 520 }, { calls: 50, rounds: 1, users: 50 }),
    ).toBeLessThan(0);
    expect(
      compare({ calls: 50, rounds: 1, users: 50 }, { calls: 40, rounds: 1, users: 20_000 }),
    ).toBeLessThan(0);
    const same = 10 * CALL_COST_USERS;
    expect(
      compare(
        { calls: 1, rounds: 1, users: same },
        { calls: 10, rounds: 1, users: 1 * CALL_COST_USERS },
      ),
    ).toBeLessThan(0);
  });
});

describe('planScan', () => {
  it.each([
    [
      'the demo node',
      { userCount: 520 },
      { ok: true, sizeKnown: true, calls: 2, rounds: 1, users: 520 },
    ],
    ['an empty node still asks one page', { userCount: 0 }, { ok: true, calls: 1, rounds: 1 }],
    ['exactly the limit', { userCount: 20_000 }, { ok: true, calls: 40, rounds: 1 }],
    [
      'one over the limit: refused before any call',
      { userCount: 20_001 },
      { ok: false, reason: 'scan-limit' },
    ],
    ['100k users', { userCount: 100_000 }, { ok: false, reason: 'scan-limit' }],
    [
      '100k users with a 200k limit, 64 in flight',
      { userCount: 100_000, scanLimit: 200_000 },
      { ok: true, calls: 200, rounds: 4 },
    ],
    ['a k·count+1 node', { userCount: 1001 }, { ok: true, calls: 3, rounds: 1 }],
    [
      'unknown size: a first page, then the rest',
      { userCount: undefined },
      { ok: true, sizeKnown: false, calls: 40, rounds: 2 },
    ],
    [
      'unknown size, 4 in flight',
      { userCount: undefined, concurrency: 4 },
      { ok: true, sizeKnown: false, rounds: 11 },
    ],
  ] as const)('%s', (_name, overrides, expected) => {
    expect(planScan({ ...base, ...overrides })).toMatchObject(expected);
  });
});
