import { fingerprint } from '../../idempotency.ts';
import {
  BaseError,
  IdempotencyKeyReusedError,
  isStoredError,
  reviveError,
  type StoredError,
  storeError,
} from '../outcomes.ts';
import type { WriteEnv } from './env.ts';
import { compactPayload, revivePayload } from './stored.ts';

// The frame every write runs in: idempotency key handling, and fresh reads afterwards.
// Rules (README "Idempotency"):
// - the key is `input.clientMutationId`, else the `Idempotency-Key` header (the schema checks it,
//   src/schema/define-mutation.ts);
// - it is scoped by caller (key digest, JWT issuer and subject, or "anonymous") and mutation
//   name; the input (minus clientMutationId) is fingerprinted;
// - same key + same input within the TTL: the first result (payload or typed error) is returned
//   and nothing is written; a concurrent duplicate waits for the first call to finish;
// - same key + different input: IdempotencyKeyReusedError, nothing written;
// - a call that fails with a top-level error (upstream down, rate limited, a bug) releases the
//   key, so repeating it runs again; an OutcomeUnknownError is remembered as "uncertain", so the
//   next call with the key looks the object up before creating it.

/** Fields every mutation payload has. */
export type PayloadBase = {
  clientMutationId: string | null;
  /** True when this answer is the stored result of an earlier call with the same key. */
  replayed: boolean;
};

export type RunInfo = {
  /** An earlier call with this key ended with an unknown outcome: its write may have landed. */
  previousUncertain: boolean;
  /** The idempotency key scoped by caller and mutation name, when the caller gave one. */
  key?: string;
};

/**
 * Runs `execute` once per idempotency key (`key`, checked by the caller), and answers a repeat
 * with the first outcome. `input` is what is fingerprinted (its clientMutationId left out).
 */
export async function runMutation<T extends object>(
  ctx: WriteEnv,
  mutation: string,
  key: string | undefined,
  input: { clientMutationId?: string | null | undefined },
  execute: (info: RunInfo) => Promise<T>,
): Promise<T & PayloadBase> {
  const clientMutationId = input.clientMutationId ?? null;

  const fresh = async (info: RunInfo) => {
    try {
      return await execute(info);
    } finally {
      // Whatever the write changed, nothing read before it may answer for after it.
      ctx.invalidate();
    }
  };

  if (key === undefined) {
    return { ...(await fresh({ previousUncertain: false })), clientMutationId, replayed: false };
  }

  const { clientMutationId: _omit, ...rest } = input;
  const print = fingerprint(rest);
  // Scoped by caller too: another caller's key never replays this one's answer, nor blocks it.
  const scoped = `${ctx.caller.kind}:${ctx.caller.id}:${mutation}:${key}`;
  const store = ctx.idempotency;
  for (;;) {
    const begun = await store.begin(scoped, print);
    if (begun.state !== 'new' && begun.fingerprint !== print) {
      throw new IdempotencyKeyReusedError(key, mutation);
    }
    if (begun.state === 'in-flight') {
      await begun.settled;
      continue;
    }
    if (begun.state === 'done') {
      if (isStoredError(begun.result)) throw reviveError(begun.result as StoredError);
      // The store kept ids, not objects: the written objects are read again, as they are now.
      const payload = await revivePayload<T>(ctx, begun.result as Record<string, unknown>);
      return { ...payload, clientMutationId, replayed: true };
    }
    try {
      const payload = await fresh({ previousUncertain: begun.previousUncertain, key: scoped });
      await store.finish(scoped, print, { kind: 'final', result: compactPayload(payload) });
      return { ...payload, clientMutationId, replayed: false };
    } catch (error) {
      await store.finish(
        scoped,
        print,
        error instanceof BaseError
          ? error.replayable
            ? { kind: 'final', result: storeError(error) }
            : { kind: 'uncertain' }
          : { kind: 'release' },
      );
      throw error;
    }
  }
}
