import type { Decision, ReadEnv } from './env.ts';
import { createGroupReads } from './groups.ts';
import { createMembershipReads } from './membership.ts';
import { createUserReads } from './users.ts';

/**
 * Everything one request has read and is reading: users, Groups, memberships. Never cleared field
 * by field: after a write the directory builds a new one (directory.ts `invalidate`).
 */
export type ReadCache = ReturnType<typeof createReadCache>;

export function createReadCache(
  env: ReadEnv,
  record: (decision: Decision) => void,
  expectsMembership: () => boolean,
) {
  const users = createUserReads(env, record);
  const groups = createGroupReads(env, expectsMembership);
  const membership = createMembershipReads(env, users, groups, expectsMembership);
  return { users, groups, membership };
}
