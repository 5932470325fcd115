import { type Config, KEEPER_REGIONS } from './config.ts';
import type { ScimClient } from './scim/client.ts';
import { ScimInvalidRequestError } from './scim/errors.ts';
import { orEq } from './scim/filter.ts';

// What the facade knows about its upstream, shared by all requests. docs/design.md: assume the
// pessimistic Keeper (eq-only filters, members perhaps missing) and use more only where the
// configuration says so or a probe shows it.

export type Capabilities = {
  /** The upstream answers `id eq "a" or id eq "b"` (Keeper does not promise it). */
  orFilters: boolean;
  /** Whether Group resources carry `members`; `unknown` until a Groups answer shows it. */
  groupMembers: 'include' | 'omit' | 'unknown';
  /**
   * Whether `groups` in a `POST /Users` body makes the memberships: Keeper applies it, RFC 7643
   * makes User.groups read-only so other servers ignore it. Learned from the first create that
   * asks for groups; `ignored` sends memberships as `PATCH /Groups/{id}` instead.
   */
  userGroupsOnCreate: 'applied' | 'ignored' | 'unknown';
  /** What `DELETE /Users/{id}` does: Keeper locks the user, RFC 7644 §3.6 deletes it. */
  userDelete: 'locks' | 'deletes' | 'unknown';
  /** How the ones above were decided, for the `upstream` query field. */
  source: {
    orFilters: 'config' | 'probe' | 'default';
    groupMembers: 'config' | 'observed' | 'default';
  };
};

type UpstreamKind = 'keeper' | 'scim';

export type UpstreamInfo = {
  baseUrl: string;
  /** Keeper, or another SCIM 2.0 server. */
  kind: UpstreamKind;
  /** How messages name the upstream: `Keeper`, or `the SCIM upstream`. */
  name: string;
  nodeId: string | undefined;
  emulated: boolean;
  rolePrefix: string;
  capabilities: Capabilities;
  /** Users in the node as last seen in an unfiltered list answer; sizes a full scan. */
  userCountHint: number | undefined;
  /** Probes once; later calls return the same promise unless the probe failed. */
  ensureProbed(signal?: AbortSignal): Promise<void>;
  /**
   * Whether the upstream answers with this token (`GET /Users?count=1`), for `/ready`. A success
   * is remembered for 10 s and a failure for 3 s, and concurrent probes share one SCIM call, so
   * frequent probes (during an outage too) cost at most one call that often.
   */
  isReachable(): Promise<boolean>;
  /** Record what an answer showed (user count, whether groups carry members). */
  observeUserCount(total: number): void;
  observeGroupMembers(present: boolean): void;
  /** Record what a create with groups, or a user delete, showed. */
  observeUserGroupsOnCreate(applied: boolean): void;
  observeUserDelete(outcome: 'locks' | 'deletes'): void;
};

/** Keeper's own hosts (a region's domain or a subdomain of it). */
function isKeeperHost(baseUrl: string): boolean {
  let host: string;
  try {
    host = new URL(baseUrl).hostname.toLowerCase();
  } catch {
    return false;
  }
  return Object.values(KEEPER_REGIONS).some((d) => host === d || host.endsWith(`.${d}`));
}

function upstreamKind(
  setting: Config['scim']['upstreamKind'],
  baseUrl: string,
  emulated: boolean,
): UpstreamKind {
  if (setting !== 'auto') return setting;
  return emulated || isKeeperHost(baseUrl) ? 'keeper' : 'scim';
}

const READY_CACHE_MS = 10_000;
const NOT_READY_CACHE_MS = 3_000;

export function createUpstreamInfo(options: {
  scim: ScimClient;
  baseUrl: string;
  emulated: boolean;
  config: Config['scim'];
}): UpstreamInfo {
  const { scim, config } = options;
  const capabilities: Capabilities = {
    orFilters: config.orFilters === 'on',
    groupMembers: config.groupMembers === 'auto' ? 'unknown' : config.groupMembers,
    userGroupsOnCreate: 'unknown',
    userDelete: 'unknown',
    source: {
      orFilters: config.orFilters === 'auto' ? 'default' : 'config',
      groupMembers: config.groupMembers === 'auto' ? 'default' : 'config',
    },
  };
  let probe: Promise<void> | undefined;
  let readiness: { ok: boolean; at: number } = { ok: false, at: Number.NEGATIVE_INFINITY };
  let readinessCheck: Promise<boolean> | undefined;

  const kind = upstreamKind(config.upstreamKind, options.baseUrl, options.emulated);
  const info: UpstreamInfo = {
    baseUrl: options.baseUrl,
    kind,
    name: kind === 'keeper' ? 'Keeper' : 'the SCIM upstream',
    nodeId: /\/scim\/v2\/([^/]+)\/?$/.exec(options.baseUrl)?.[1],
    emulated: options.emulated,
    rolePrefix: config.rolePrefix,
    capabilities,
    userCountHint: undefined,
    ensureProbed(signal) {
      probe ??= runProbe(signal).catch((error: unknown) => {
        probe = undefined;
        throw error;
      });
      return probe;
    },
    async isReachable() {
      const age = Date.now() - readiness.at;
      if (age < (readiness.ok ? READY_CACHE_MS : NOT_READY_CACHE_MS)) return readiness.ok;
      readinessCheck ??= scim.users
        .list({ startIndex: 1, count: 1 })
        .then(
          (page) => {
            info.observeUserCount(page.totalResults);
            return true;
          },
          () => false,
        )
        .then((ok) => {
          readiness = { ok, at: Date.now() };
          readinessCheck = undefined;
          return ok;
        });
      return readinessCheck;
    },
    observeUserCount(total) {
      info.userCountHint = total;
    },
    observeGroupMembers(present) {
      if (config.groupMembers !== 'auto') return;
      capabilities.groupMembers = present ? 'include' : 'omit';
      capabilities.source.groupMembers = 'observed';
    },
    observeUserGroupsOnCreate(applied) {
      capabilities.userGroupsOnCreate = applied ? 'applied' : 'ignored';
    },
    observeUserDelete(outcome) {
      capabilities.userDelete = outcome;
    },
  };

  async function runProbe(signal?: AbortSignal): Promise<void> {
    const page = await scim.users.list({ startIndex: 1, count: 1 }, { signal });
    info.observeUserCount(page.totalResults);
    if (config.orFilters !== 'auto') return;
    // Two ids that cannot exist: a 200 (with no results) proves `or` is understood; Keeper's
    // documented filter support is `attr eq "value"` only, so a 400 is the expected answer there.
    try {
      await scim.users.list({ filter: orEq('Users', 'id', ['0', '1']), count: 1 }, { signal });
      capabilities.orFilters = true;
    } catch (error) {
      if (!(error instanceof ScimInvalidRequestError)) throw error;
      capabilities.orFilters = false;
    }
    capabilities.source.orFilters = 'probe';
  }

  return info;
}
