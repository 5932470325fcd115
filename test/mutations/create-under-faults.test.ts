import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/directory/reads/env.ts';
import { CreateUserBriefDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';

// 200 creates while 10 % of POSTs fail (seeded: 503, 429, reset before and after the create is
// applied, 2.5 % each). Whatever the facade answers must match the emulator's store afterwards.

const CREATES = 200;

describe('createUser under injected faults', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ emulator: { seed: 'empty', seats: 1000 } });
    stack.emulator.faults.set({
      seed: 7,
      methods: ['POST'],
      rate503: 0.025,
      rate429: 0.025,
      rateResetBeforeApply: 0.025,
      rateResetAfterApply: 0.025,
    });
  });
  afterAll(() => stack.close());

  it('reports every user it created exactly once, and none it reported failed exists', async () => {
    const names = Array.from({ length: CREATES }, (_, i) => `load.${i}@acme.example`);
    const outcomes = await mapLimit(names, 8, async (userName) => {
      const result = await stack.run(CreateUserBriefDocument, { input: { userName } });
      const answer = result.data?.createUser;
      if (answer?.__typename === 'CreateUserPayload') {
        return { userName, outcome: 'created' as const, keeperId: answer.user.keeperId };
      }
      if (answer?.__typename === 'OutcomeUnknownError')
        return { userName, outcome: 'unknown' as const };
      return {
        userName,
        outcome: 'failed' as const,
        why: answer?.__typename ?? String(result.errors?.[0]?.extensions?.['code']),
      };
    });

    const { store } = stack.emulator;
    const stored = store.listUsers();
    const count = new Map<string, number>();
    for (const u of stored)
      count.set(u.userName.toLowerCase(), (count.get(u.userName.toLowerCase()) ?? 0) + 1);

    // No user exists twice.
    expect([...count.values()].filter((n) => n > 1)).toEqual([]);
    for (const o of outcomes) {
      if (o.outcome === 'created') {
        // Created means: exists, once, with the id the facade reported.
        expect(count.get(o.userName)).toBe(1);
        expect(store.findUserByUserName(o.userName)?.id).toBe(o.keeperId);
      }
      // Failed means: not created.
      if (o.outcome === 'failed') expect(store.findUserByUserName(o.userName)).toBeUndefined();
    }
    // Nothing exists that was not asked for.
    expect(stored.every((u) => names.includes(u.userName))).toBe(true);

    const faults = stack.emulator.log.entries.filter((e) => e.fault !== undefined);
    const tally = (values: string[]) =>
      Object.fromEntries(
        [...new Set(values)].sort().map((v) => [v, values.filter((x) => x === v).length]),
      );
    const summary = {
      outcomes: tally(outcomes.map((o) => o.outcome)),
      failedBecause: tally(outcomes.flatMap((o) => (o.outcome === 'failed' ? [o.why] : []))),
      injected: tally(faults.map((e) => String(e.fault))),
      posts: stack.emulator.log.count('POST', '/Users'),
      lookups: stack.emulator.log.count('GET', '/Users'),
      stored: stored.length,
    };
    console.log('createUser under faults:', JSON.stringify(summary));

    // The faults really happened, of every kind, and most creates still succeeded.
    expect(Object.keys(summary.injected).sort()).toEqual([
      '429',
      '503',
      'reset-after-apply',
      'reset-before-apply',
    ]);
    expect(summary.outcomes['created']).toBeGreaterThan(CREATES * 0.9);
    // Only a 429 (Keeper refused the request) is reported as a failure.
    expect(Object.keys(summary.failedBecause)).toEqual(
      summary.outcomes['failed'] ? ['RATE_LIMITED'] : [],
    );
    expect(stack.masked).toEqual([]);
  });
});
