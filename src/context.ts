import events, { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Audit } from './audit.ts';
import type { Caller } from './caller-auth.ts';
import type { Config } from './config.ts';
import { createDirectory, type Directory } from './directory/directory.ts';
import type { Mirror } from './directory/mirror/mirror.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { GroupLocks } from './locks.ts';
import type { AttemptObserver, CallOptions, ScimClient } from './scim/client.ts';
import { UpstreamStats } from './stats.ts';
import type { UpstreamInfo } from './upstream.ts';

/** Everything one GraphQL request may use; built fresh per request, so no cache outlives it. */
export type Context = {
  /** The audit trail: mutations and refused attempts are recorded here (src/audit.ts). */
  audit: Audit;
  upstream: UpstreamInfo;
  /**
   * Every read and write of Keeper this request makes (src/directory/): the schema reaches the
   * SCIM client, the idempotency store and the group locks only through it.
   */
  directory: Directory;
  /** KEEPER_ID_FORMAT: how ids a caller gives are checked (src/schema/ids.ts). */
  idFormat: Config['scim']['idFormat'];
  /** Whether the service runs in production (NODE_ENV): hides the upstream address from anonymous callers. */
  production: boolean;
  stats: UpstreamStats;
  /**
   * Pass to every SCIM call: cancels upstream work when the caller goes away, ends it by the
   * request's deadline (REQUEST_TIMEOUT_MS, on the `performance.now()` clock), records stats.
   */
  call: CallOptions;
  request: Request;
  /** Who sent the request (an API key's digest, or anonymous); scopes idempotency keys. */
  caller: Caller;
  /** The directory mirror shared by every request (src/directory/mirror); undefined with MIRROR=off. */
  mirror: Mirror | undefined;
};

export type ContextDeps = {
  audit: Audit;
  scim: ScimClient;
  config: Config;
  upstream: UpstreamInfo;
  idempotency: IdempotencyStore;
  locks: GroupLocks;
  mirror?: Mirror | undefined;
  /** Watches each SCIM attempt of a request (request id and trace headers, spans). */
  observeUpstream?: (request: Request) => AttemptObserver;
};

/**
 * Node's key of an EventTarget's listener limit (what `setMaxListeners` sets; 0: no limit). Not in
 * the typings; undefined on a runtime without it, where the limit is always set.
 */
const MAX_LISTENERS_KEY = (events as { kMaxEventTargetListeners?: symbol })
  .kMaxEventTargetListeners;

/** Whether a signal takes any number of listeners without a warning. */
const unlimited = (signal: AbortSignal) =>
  MAX_LISTENERS_KEY !== undefined &&
  (signal as unknown as Record<symbol, unknown>)[MAX_LISTENERS_KEY] === 0;

export function createContext(deps: ContextDeps, request: Request, caller: Caller): Context {
  const stats = new UpstreamStats();
  // Every upstream call in flight listens for the caller going away, and one request may have
  // UPSTREAM_REQUEST_CONCURRENCY of them: not a leak, so no warning for it. The signal of a request
  // from the HTTP server (@whatwg-node/server) has no limit already (0).
  if (!unlimited(request.signal)) {
    setMaxListeners(deps.config.scim.requestConcurrency + 16, request.signal);
  }
  const call: CallOptions = {
    signal: request.signal,
    deadline: performance.now() + deps.config.requestTimeoutMs,
    onCall: stats.record,
    observe: deps.observeUpstream?.(request),
  };
  const { audit, config, upstream } = deps;
  const directory = createDirectory({
    scim: deps.scim,
    upstream,
    config: config.scim,
    call,
    locks: deps.locks,
    idempotency: deps.idempotency,
    caller,
    mirror: deps.mirror,
    // The caller asked for fresh data for the whole request (`Cache-Control: no-cache` or
    // `no-store`); `@fresh` and mutations are told to the directory once the operation is known.
    fresh: /\bno-(cache|store)\b/i.test(request.headers.get('cache-control') ?? ''),
  });
  return {
    audit,
    upstream,
    mirror: deps.mirror,
    directory,
    idFormat: config.scim.idFormat,
    production: config.server.production,
    stats,
    call,
    request,
    caller,
  };
}
