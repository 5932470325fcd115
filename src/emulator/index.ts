import type { AddressInfo } from 'node:net';
import { FaultController, type FaultOptions, type ScriptedFault } from './faults.ts';
import type { FilterProfile } from './filter.ts';
import { RequestLog } from './log.ts';
import { seedDemo } from './seed.ts';
import { BASE_PREFIX, type PagingQuirks, startServer } from './server.ts';
import { EmulatorStore } from './store.ts';

export type { GroupRecord, UserRecord } from './store.ts';

/**
 * `rfc-strict` reproduces a SCIM 2.0 server that follows RFC 7643/7644 where Keeper does not:
 * User.groups is read-only (ignored on POST/PUT, refused on PATCH), DELETE /Users deletes,
 * userName and displayName compare with their case, group names are unique (409 uniqueness),
 * unknown member ids are refused with 400 invalidValue, POST/PUT/PATCH bodies must carry
 * `schemas`, `active` must be a JSON boolean, and PATCH answers 204 without a body. Filters take
 * the full grammar.
 */
export type EmulatorProfile = FilterProfile | 'rfc-strict';

export type EmulatorOptions = {
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 (an ephemeral port) */
  port?: number;
  /** Keeper node id: an int64 in decimal (docs/keeper-scim.md §3). @default '345074852429829' */
  nodeId?: string;
  /** Bearer token. @default a fixed 43-char base64url demo token */
  token?: string;
  /** Licensed seats; POST /Users beyond this answers 428. Locked users hold a seat. @default 1000 */
  seats?: number;
  /**
   * `keeper` behaves like Keeper and accepts only `attr eq "value"` filters; `rfc` is Keeper with
   * the full filter grammar; `rfc-strict` is a generic RFC 7644 server that differs from Keeper
   * where the RFC lets it (see EmulatorProfile). @default 'keeper'
   */
  profile?: EmulatorProfile;
  /** Initial data. @default 'empty' */
  seed?: 'demo' | 'empty';
  /** Groups created with this displayName prefix become Keeper roles. @default 'ROLE_' */
  rolePrefix?: string;
  /** Whether Group resources carry `members`. @default 'include' */
  groupMembers?: 'include' | 'omit';
  /** Added to every answer, in milliseconds. @default 0 */
  latencyMs?: number;
  faults?: FaultOptions;
  /** Paging quirks to reproduce (itemsPerPage echoing count, wrap past the end, a page cap). */
  paging?: PagingQuirks;
};

type EmulatorFaults = {
  /** Replaces the random fault settings (and latency), re-seeding their PRNG. */
  set(options: FaultOptions): void;
  /** Removes random faults, fault latency and the scripted queue. */
  clear(): void;
  /** Queues a fault for the next `times` requests matching method and path. */
  enqueue(fault: ScriptedFault): void;
  /** Scripted faults not yet consumed. */
  pending(): number;
};

export type Emulator = {
  /** Origin, e.g. `http://127.0.0.1:54321`. */
  url: string;
  /** `${url}/api/rest/scim/v2/${nodeId}`. */
  baseUrl: string;
  nodeId: string;
  token: string;
  log: RequestLog;
  /** Direct state access for tests; bypasses HTTP, auth, faults and the log. */
  store: EmulatorStore;
  faults: EmulatorFaults;
  close(): Promise<void>;
};

const DEFAULT_NODE_ID = '345074852429829';
// Commander's token format: base64url of 32 bytes, 43 chars (docs/keeper-scim.md §3). Demo only.
const DEFAULT_TOKEN = 'a2VlcGVyLXNjaW0tZW11bGF0b3ItZGVtby10b2tlbiE';

export async function createEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const nodeId = options.nodeId ?? DEFAULT_NODE_ID;
  if (!/^[1-9]\d{0,18}$/.test(nodeId)) {
    throw new RangeError(
      `nodeId must be a positive decimal integer (Keeper node id), got ${nodeId}`,
    );
  }
  const seats = options.seats ?? 1000;
  if (!(Number.isInteger(seats) && seats >= 0)) {
    throw new RangeError(`seats must be a non-negative integer, got ${seats}`);
  }
  const token = options.token ?? DEFAULT_TOKEN;
  if (token === '') throw new RangeError('token must not be empty');

  const profile = options.profile ?? 'keeper';
  const store = new EmulatorStore({
    nodeId,
    seats,
    rolePrefix: options.rolePrefix ?? 'ROLE_',
    rfcStrict: profile === 'rfc-strict',
  });
  if (options.seed === 'demo') seedDemo(store);
  const log = new RequestLog();
  const faults = new FaultController(options.faults);

  const { server, close } = startServer({
    store,
    log,
    faults,
    token,
    profile: profile === 'rfc-strict' ? 'rfc' : profile,
    groupMembers: options.groupMembers ?? 'include',
    latencyMs: options.latencyMs ?? 0,
    paging: options.paging ?? {},
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host}:${address.port}`;

  return {
    url,
    baseUrl: `${url}${BASE_PREFIX}${nodeId}`,
    nodeId,
    token,
    log,
    store,
    faults: {
      set: (f) => faults.set(f),
      clear: () => faults.clear(),
      enqueue: (f) => faults.enqueue(f),
      pending: () => faults.pending(),
    },
    close,
  };
}
