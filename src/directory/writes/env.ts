import type { Caller } from '../../caller-auth.ts';
import type { IdempotencyStore } from '../../idempotency.ts';
import type { GroupLocks } from '../../locks.ts';
import { classifyGroup, type GroupModel } from '../../model.ts';
import type { ScimGroup } from '../../scim/schemas.ts';
import type { ReadCache } from '../reads/cache.ts';
import type { ReadEnv } from '../reads/env.ts';

/** What the writes of one request work with: the reads' world, plus locks and idempotency. */
export type WriteEnv = ReadEnv & {
  /** Per-group write locks of read-then-write changes (src/locks.ts). */
  locks: GroupLocks;
  /** Idempotency keys of mutations; shared by all requests (src/idempotency.ts). */
  idempotency: IdempotencyStore;
  /** Who writes: idempotency keys are scoped by caller. */
  caller: Caller;
  /** The request's read cache as it is now (a write may have replaced it). */
  reads: () => ReadCache;
  /** Forgets every read of the request (directory.ts). */
  invalidate: () => void;
};

/** A group as the schema sees it: a team or a role, by the role prefix. */
export const groupModel = (env: ReadEnv, group: ScimGroup): GroupModel =>
  classifyGroup(group, env.upstream.rolePrefix);
