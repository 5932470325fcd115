import { createHash } from 'node:crypto';

// Idempotency keys for mutations (stripe-node sends one with every POST; the facade accepts one
// from its callers). A key is scoped by mutation name, remembers a fingerprint of the input and the
// first result, and lives `ttlMs`. The interface is small on purpose: `begin` is an atomic
// "claim or read" (SET NX in Redis terms) and `finish` stores or releases, so a shared store can
// replace the in-memory one without touching the mutations.

/** What a finished call left behind; `result` is JSON-serialisable (a shared store keeps it). */
export type IdempotencyOutcome =
  /** The call ended with a result that every repetition must get (a payload or a typed error). */
  | { kind: 'final'; result: unknown }
  /**
   * The call ended without knowing whether its write was applied (OutcomeUnknownError). Nothing
   * is replayed, but the next call with the key learns that an earlier write may have landed, so
   * a create looks before it writes.
   */
  | { kind: 'uncertain' }
  /** The call failed before or without writing (an upstream error): forget the key. */
  | { kind: 'release' };

type IdempotencyBegin =
  /** The caller owns the key and must call `finish`. */
  | { state: 'new'; previousUncertain: boolean }
  | { state: 'done'; fingerprint: string; result: unknown }
  /** Another call holds the key; wait for `settled`, then `begin` again. */
  | { state: 'in-flight'; fingerprint: string; settled: Promise<void> };

export interface IdempotencyStore {
  begin(key: string, fingerprint: string): Promise<IdempotencyBegin>;
  finish(key: string, fingerprint: string, outcome: IdempotencyOutcome): Promise<void>;
}

type Entry =
  | { state: 'in-flight'; fingerprint: string; settled: Promise<void>; wake: () => void }
  /** `json`: the result as stored, compact (ids, not objects; see src/directory/writes/stored.ts). */
  | { state: 'done'; fingerprint: string; json: string; expiresAt: number; bytes: number }
  | { state: 'uncertain'; fingerprint: string; expiresAt: number; bytes: number };

export type MemoryIdempotencyOptions = {
  /** How long a finished key is remembered (config IDEMPOTENCY_TTL_SECONDS, default 24 h). */
  ttlMs: number;
  /** Injectable clock for tests. @default Date.now */
  now?: () => number;
  /**
   * Most remembered keys; the oldest finished are dropped first.
   * @default 100000
   */
  maxEntries?: number;
  /**
   * Memory the finished keys may take, estimated generously (two bytes per character of key,
   * fingerprint and stored result, plus a fixed overhead per key); the oldest finished keys are
   * dropped first to stay within it. Keys of calls still running are never dropped.
   * (config IDEMPOTENCY_MAX_BYTES)
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
};

/** Map slot, entry object and strings' headers of one finished key, rounded up. */
const ENTRY_OVERHEAD_BYTES = 256;

const IDEMPOTENCY_MAX_BYTES_DEFAULT = 64 * 1024 * 1024;

/** One process's store. Keys do not survive a restart and are not shared between replicas. */
export function createMemoryIdempotencyStore(options: MemoryIdempotencyOptions): IdempotencyStore {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 100_000;
  const maxBytes = options.maxBytes ?? IDEMPOTENCY_MAX_BYTES_DEFAULT;
  // Map keeps insertion order, which is also expiry order for a fixed TTL.
  const entries = new Map<string, Entry>();
  let finished = 0;
  let bytes = 0;

  const drop = (key: string, entry: Entry) => {
    entries.delete(key);
    if (entry.state !== 'in-flight') {
      finished -= 1;
      bytes -= entry.bytes;
    }
  };

  // Finished entries sit in the Map in expiry order (a fixed TTL, re-inserted on finish), so a
  // sweep stops at the first live one once the bounds hold; in-flight entries are skipped, never
  // dropped.
  const sweep = () => {
    const t = now();
    for (const [key, entry] of entries) {
      if (entry.state === 'in-flight') continue;
      if (entry.expiresAt > t && finished <= maxEntries && bytes <= maxBytes) break;
      drop(key, entry);
    }
  };

  const remember = (key: string, entry: Entry) => {
    entries.set(key, entry);
    if (entry.state !== 'in-flight') {
      finished += 1;
      bytes += entry.bytes;
      if (finished > maxEntries || bytes > maxBytes) sweep();
    }
  };

  return {
    async begin(key, fingerprint) {
      sweep();
      const entry = entries.get(key);
      if (entry?.state === 'in-flight') {
        return { state: 'in-flight', fingerprint: entry.fingerprint, settled: entry.settled };
      }
      if (entry?.state === 'done' && entry.expiresAt > now()) {
        return { state: 'done', fingerprint: entry.fingerprint, result: JSON.parse(entry.json) };
      }
      const uncertain = entry?.state === 'uncertain' && entry.expiresAt > now();
      if (uncertain && entry.fingerprint !== fingerprint) {
        // The key is still bound to the earlier input; the caller sees the other fingerprint.
        return { state: 'in-flight', fingerprint: entry.fingerprint, settled: Promise.resolve() };
      }
      let wake = () => {};
      const settled = new Promise<void>((resolve) => {
        wake = resolve;
      });
      if (entry) drop(key, entry);
      remember(key, { state: 'in-flight', fingerprint, settled, wake });
      return { state: 'new', previousUncertain: uncertain };
    },
    async finish(key, fingerprint, outcome) {
      const entry = entries.get(key);
      if (entry?.state !== 'in-flight' || entry.fingerprint !== fingerprint) return;
      drop(key, entry);
      const expiresAt = now() + options.ttlMs;
      const size = (json: string) =>
        ENTRY_OVERHEAD_BYTES + 2 * (key.length + fingerprint.length + json.length);
      if (outcome.kind === 'final') {
        const json = JSON.stringify(outcome.result) ?? 'null';
        remember(key, { state: 'done', fingerprint, json, expiresAt, bytes: size(json) });
      } else if (outcome.kind === 'uncertain') {
        remember(key, { state: 'uncertain', fingerprint, expiresAt, bytes: size('') });
      }
      entry.wake();
    },
  };
}

/** SHA-256 of a canonical JSON form (object keys sorted), so field order never matters. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url');
}

function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
    .join(',')}}`;
}
