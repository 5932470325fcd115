import DataLoader from 'dataloader';
import {
  classifyGroup,
  type GroupModel,
  isRole,
  isTeam,
  type RoleModel,
  type TeamModel,
} from '../../model.ts';
import { groupEq } from '../../scim/filter.ts';
import type { ScimGroup } from '../../scim/schemas.ts';
import type { ReadEnv } from './env.ts';

// The Groups of one request: the snapshot (every group, read once, classified as teams and roles)
// and the look-ups by displayName or externalId.

export type GroupSnapshot = {
  all: GroupModel[];
  byId: Map<string, GroupModel>;
  teams: TeamModel[];
  roles: RoleModel[];
  /** Whether the upstream returned `members` on its Group resources. */
  membersIncluded: boolean;
};

/** An attribute a group is looked up by. */
export type GroupAttribute = 'displayName' | 'externalId';

export type GroupReads = ReturnType<typeof createGroupReads>;

export function createGroupReads(env: ReadEnv, expectsMembership: () => boolean) {
  const { scim, upstream, config, call } = env;
  /** The Groups read without members, and with them. */
  let lean: Promise<GroupSnapshot> | undefined;
  let full: Promise<GroupSnapshot> | undefined;

  const read = (withMembers: boolean): Promise<GroupSnapshot> =>
    scim.groups
      .listAll(
        { pageSize: config.pageSize, excludedAttributes: withMembers ? undefined : ['members'] },
        call,
      )
      .then(({ Resources: items }) => {
        if (withMembers && items.length > 0) {
          upstream.observeGroupMembers(items.some((g) => g.members !== undefined));
        }
        return buildSnapshot(
          items,
          upstream.rolePrefix,
          withMembers &&
            (upstream.capabilities.groupMembers === 'include' ||
              items.some((g) => g.members !== undefined)),
        );
      });

  /** Whether the upstream may send Group.members. */
  const membersMayCome = () => upstream.capabilities.groupMembers !== 'omit';

  /** The groups with their members, read once per request (only asked where members may come). */
  const fullSnapshot = (): Promise<GroupSnapshot> => {
    full ??= read(true);
    return full;
  };

  /**
   * Every group of the node, read once per request, classified as teams and roles. Without
   * members (`excludedAttributes=members`: a few KB instead of every membership of the node)
   * unless this request selects a field that needs them and the upstream may send them.
   */
  const snapshot = (): Promise<GroupSnapshot> => {
    if (full) return full;
    if (expectsMembership() && membersMayCome()) return fullSnapshot();
    lean ??= read(false);
    return lean;
  };

  /**
   * Groups whose displayName or externalId equals a value (key: `groupKey(attribute, value)`),
   * asked upstream as one escaped `eq` filter per value (Keeper's documented filter; Entra sends
   * `displayName eq` too), or answered for free from the Groups snapshot when this request
   * already has it. displayName compares without case (RFC 7643 caseExact=false), externalId
   * exactly; callers prefer an exact-case name when there are several.
   */
  const where: DataLoader<string, GroupModel[]> = new DataLoader(async (keys) => {
    const parsed = keys.map(parseGroupKey);
    const groups = full ?? lean;
    if (groups) {
      const { all } = await groups;
      return parsed.map((k) => all.filter((g) => groupMatches(g, k)));
    }
    return Promise.all(
      parsed.map(async (k) => {
        const { Resources } = await scim.groups.listAll(
          {
            filter: groupEq(k.attribute, k.value),
            pageSize: config.pageSize,
            excludedAttributes: ['members'],
          },
          call,
        );
        const found = Resources.map((g) => classifyGroup(g, upstream.rolePrefix)).filter((g) =>
          groupMatches(g, k),
        );
        // An upstream that compares displayName with case (not Keeper) misses other spellings:
        // the Groups snapshot answers them.
        if (found.length > 0 || k.attribute !== 'displayName' || upstream.kind === 'keeper') {
          return found;
        }
        return (await snapshot()).all.filter((g) => groupMatches(g, k));
      }),
    );
  });

  return {
    snapshot,
    fullSnapshot,
    membersMayCome,
    /** The groups whose `attribute` equals `value` (displayName without case). */
    where: (attribute: GroupAttribute, value: string) => where.load(groupKey(attribute, value)),
    /** The same, read again even when this request has asked before. */
    whereFresh: (attribute: GroupAttribute, value: string) => {
      where.clear(groupKey(attribute, value));
      return where.load(groupKey(attribute, value));
    },
  };
}

type GroupKey = { attribute: GroupAttribute; value: string };

/** The key of the `where` loader. */
const groupKey = (attribute: GroupAttribute, value: string) => `${attribute}=${value}`;

function parseGroupKey(key: string): GroupKey {
  const at = key.indexOf('=');
  const attribute = key.slice(0, at);
  if (attribute !== 'displayName' && attribute !== 'externalId') {
    throw new TypeError(`not a group key: ${attribute}`);
  }
  return { attribute, value: key.slice(at + 1) };
}

function groupMatches(g: GroupModel, k: GroupKey): boolean {
  return k.attribute === 'externalId'
    ? g.group.externalId === k.value
    : g.group.displayName.toLowerCase() === k.value.toLowerCase();
}

function buildSnapshot(
  items: ScimGroup[],
  rolePrefix: string,
  membersIncluded: boolean,
): GroupSnapshot {
  const all = items.map((g) => classifyGroup(g, rolePrefix));
  return {
    all,
    byId: new Map(all.map((g) => [g.group.id, g])),
    teams: all.filter(isTeam),
    roles: all.filter(isRole),
    membersIncluded,
  };
}
