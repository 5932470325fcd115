import type { GroupModel } from '../../model.ts';
import type { ScimUser } from '../../scim/schemas.ts';
import { planLimits, type ReadEnv } from './env.ts';
import type { GroupReads } from './groups.ts';
import { planScan } from './plan.ts';
import type { UserReads } from './users.ts';

// Who is in which group, for one request: from Group.members when the upstream sends them,
// otherwise from one user scan (User.groups), which Keeper's own clients rely on
// (docs/keeper-scim.md §2.3).

export function createMembershipReads(
  env: ReadEnv,
  users: UserReads,
  groups: GroupReads,
  expectsMembership: () => boolean,
) {
  let index: Promise<Map<string, string[]>> | undefined;

  const build = async (): Promise<Map<string, string[]>> => {
    const members = new Map<string, string[]>();
    if (groups.membersMayCome()) {
      const snapshot = await groups.fullSnapshot();
      if (snapshot.membersIncluded) {
        for (const g of snapshot.all) {
          members.set(
            g.group.id,
            (g.group.members ?? []).map((m) => m.value),
          );
        }
        return members;
      }
    }
    for (const user of await users.allUsers()) {
      for (const ref of user.groups ?? []) {
        const list = members.get(ref.value) ?? [];
        list.push(user.id);
        members.set(ref.value, list);
      }
    }
    return members;
  };

  /** Group id → member user ids, read once per request. */
  const membershipIndex = (): Promise<Map<string, string[]>> => {
    index ??= build();
    return index;
  };

  /**
   * The user scan that membership will need when the upstream sends no Group.members, started
   * now so that it runs alongside the Groups read; `false` when it will not be needed or the
   * scan limit forbids it (the field that needs it then reports SCAN_LIMIT_EXCEEDED).
   */
  const membershipScan = (): Promise<unknown> | false =>
    expectsMembership() &&
    env.upstream.capabilities.groupMembers === 'omit' &&
    planScan(planLimits(env)).ok &&
    users.allUsers();

  /** The groups (teams and roles of this node) a user belongs to. */
  const groupsOfUser = async (user: ScimUser): Promise<GroupModel[]> => {
    const snapshot = await groups.snapshot();
    let ids: string[];
    if (user.groups !== undefined) {
      ids = user.groups.map((g) => g.value);
    } else {
      const members = await membershipIndex();
      ids = [...members].filter(([, list]) => list.includes(user.id)).map(([id]) => id);
    }
    // User.groups may list teams outside this SCIM node (docs/keeper-scim.md §2.2): they are not
    // readable here, so they are not shown.
    return ids.map((id) => snapshot.byId.get(id)).filter((g): g is GroupModel => g !== undefined);
  };

  return { membershipIndex, membershipScan, groupsOfUser };
}
