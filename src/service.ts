import { type App, type AppDeps, createApp } from './app.ts';
import { type CallerAuth, createCallerAuth } from './caller-auth.ts';
import type { Config } from './config.ts';
import { createMirror, type Mirror } from './directory/mirror/mirror.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from './scim/client.ts';
import { createSharedState, type SharedState } from './stores/index.ts';
import { createUpstreamInfo, type UpstreamInfo } from './upstream.ts';

// The one wiring of the service: the SCIM client, what is known of the upstream (and its start-up
// probe), the state replicas share, and the GraphQL app, all from one `Config`. `main.ts`, the
// tests and the benchmark build the service here, so they all run on the configured settings.

/** Where the service's SCIM upstream is and how to authenticate to it. */
export type UpstreamTarget = { baseUrl: string; token: string };

export type ServiceOverrides = {
  /**
   * The upstream, when the configuration names none (main.ts starts the embedded emulator).
   * @default config.upstream
   */
  upstream?: UpstreamTarget;
  /** Whether the upstream is the embedded emulator (it then stands for Keeper). @default false */
  emulated?: boolean;
  /** Options of the SCIM client on top of the configured ones (an observer, fast retries in tests). */
  client?: Partial<ScimClientOptions>;
  /** Other dependencies of the app (a logger, metrics, tracing, the shutdown state, an audit sink). */
  app?: Partial<Omit<AppDeps, 'audit'>> & { audit?: Partial<AppDeps['audit']> };
  /** Told when Redis is lost and back (never with credentials). */
  log?: (message: string) => void;
  /** Whether to probe the upstream's capabilities before returning. @default true */
  probe?: boolean;
};

export type Service = {
  config: Config;
  scim: ScimClient;
  upstream: UpstreamInfo;
  shared: SharedState;
  /** Who callers are; `setKeys` replaces the keys (SIGHUP). */
  callerAuth: CallerAuth;
  app: App;
  /**
   * The directory mirror (MIRROR=on, the default), built but not started: `main.ts` starts its
   * background refreshes; tests refresh it by hand. Undefined with MIRROR=off.
   */
  mirror: Mirror | undefined;
  /**
   * Why the start-up probe failed, or undefined. The service serves anyway: requests probe again.
   */
  probeError: Error | undefined;
  /** Closes the SCIM client's connections and the shared state. */
  close(): Promise<void>;
};

/** The SCIM client's options as the configuration sets them (UPSTREAM_* variables). */
export function scimClientOptions(config: Config, upstream: UpstreamTarget): ScimClientOptions {
  return {
    baseUrl: upstream.baseUrl,
    token: upstream.token,
    connectTimeoutMs: config.scim.connectTimeoutMs,
    requestTimeoutMs: config.scim.requestTimeoutMs,
    maxConnections: config.scim.maxConnections,
    retry: { maxRetries: config.scim.maxRetries },
  };
}

export async function createService(
  config: Config,
  overrides: ServiceOverrides = {},
): Promise<Service> {
  const target = overrides.upstream ?? config.upstream;
  if (!target) throw new Error('createService: no SCIM upstream is configured');
  // Idempotency keys, group locks, the audit trail and the upstream budget: in memory, or on
  // Redis for replicas (REDIS_URL).
  const shared = createSharedState(config, { log: overrides.log });
  const configured = scimClientOptions(config, target);
  const scim = createScimClient({
    ...configured,
    budget: shared.budget,
    ...overrides.client,
    retry:
      overrides.client?.retry === false
        ? false
        : { ...configured.retry, ...overrides.client?.retry },
  });
  const upstream = createUpstreamInfo({
    scim,
    baseUrl: target.baseUrl,
    emulated: overrides.emulated ?? false,
    config: config.scim,
  });
  // Learn the upstream's capabilities now, but serve even when it is down.
  const probeError =
    overrides.probe === false
      ? undefined
      : await upstream.ensureProbed().then(
          () => undefined,
          (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
        );
  const callerAuth = createCallerAuth({
    keys: config.server.apiKeys,
    named: config.server.namedKeys,
    jwt: config.server.jwt,
    ratePerMinute: config.server.callerRateLimit,
    limiter: shared.callerLimiter,
    graphiql: config.server.graphiql,
    endpoint: '/graphql',
  });
  const mirror = config.mirror.enabled
    ? createMirror({
        scim,
        rolePrefix: upstream.rolePrefix,
        refreshSeconds: config.mirror.refreshSeconds,
        retention: config.mirror.retention,
        pageSize: config.scim.pageSize,
        concurrency: config.scim.requestConcurrency,
        groupMembers: config.scim.groupMembers,
        redis: shared.redis,
        observers: [
          overrides.app?.metrics?.observeMirror,
          overrides.app?.tracing?.observeMirror,
        ].filter((o) => o !== undefined),
        // One warn line per failed refresh (the client's errors never carry the token).
        onError: (what, error) => {
          const message = `${what} failed (${error instanceof Error ? error.message : String(error)}); the mirror keeps its snapshot`;
          if (overrides.app?.log) overrides.app.log.warn(message);
          else overrides.log?.(message);
        },
      })
    : undefined;
  if (mirror) overrides.app?.metrics?.watchMirror(mirror);
  const app = createApp({
    config,
    mirror,
    scim,
    upstream,
    idempotency: shared.idempotency,
    locks: shared.locks,
    readiness: shared.readiness,
    callerAuth,
    ...overrides.app,
    audit: { store: shared.audit, ...overrides.app?.audit },
  });
  return {
    config,
    scim,
    upstream,
    shared,
    callerAuth,
    app,
    mirror,
    probeError,
    async close() {
      await mirror?.close();
      await scim.close();
      await shared.close();
    },
  };
}
