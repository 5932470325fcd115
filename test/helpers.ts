import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type App, type AppDeps, createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createMirror, type Mirror, type MirrorOptions } from '../src/directory/mirror/mirror.ts';
import {
  createEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorProfile,
} from '../src/emulator/index.ts';
import { createLifecycle, type Lifecycle } from '../src/lifecycle.ts';
import { createScimClient, type ScimClient, type ScimClientOptions } from '../src/scim/client.ts';
import { createUpstreamInfo, type UpstreamInfo } from '../src/upstream.ts';

export type GraphQLResponse<T> = {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: {
    upstream?: {
      calls: number;
      retries: number;
      /** Waves of calls that waited on earlier ones (src/stats.ts). */
      rounds: number;
      byRoute: Record<string, { calls: number }>;
      batches: { loader: string; keys: number; strategy: string }[];
    };
  };
};

export type Stack = {
  emulator: Emulator;
  app: App;
  scim: ScimClient;
  upstream: UpstreamInfo;
  /** Shutdown state the app's `/ready` reads. */
  lifecycle: Lifecycle;
  /** The directory mirror given to the app (only with the `mirror` option). */
  mirror: Mirror | undefined;
  /** Errors the app masked, as logged (tests assert none leaked). */
  masked: unknown[];
  /** Runs a typed operation through `app.fetch` (no port) and returns the parsed answer. */
  run<R, V>(
    document: TypedDocumentNode<R, V>,
    variables?: V,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<R>>;
  /** Upstream requests the emulator has logged since the last `resetLog()`. */
  upstreamCalls(): { method: string; path: string; status: number | string }[];
  resetLog(): void;
  close(): Promise<void>;
};

/**
 * The emulator profile a stack gets when the test names none: `keeper`, or the profile the
 * vitest project sets in TEST_UPSTREAM_PROFILE (the mutation suite runs once per profile).
 */
export const PROFILE: EmulatorProfile =
  (process.env['TEST_UPSTREAM_PROFILE'] as EmulatorProfile | undefined) ?? 'keeper';

/** Whether this run's default upstream is a strict RFC server rather than Keeper. */
export const RFC_STRICT = PROFILE === 'rfc-strict';

/**
 * The facade on a fresh emulator over loopback, as `npm start` wires it, with fast retries.
 * `env` holds the facade's environment (e.g. KEEPER_GROUP_MEMBERS).
 */
export async function startStack(
  options: {
    emulator?: EmulatorOptions;
    env?: Record<string, string>;
    client?: Partial<ScimClientOptions>;
    probe?: boolean;
    /** Overrides of the app's dependencies (a logger, metrics, tracing). */
    app?: Partial<AppDeps>;
    /**
     * Give the app a directory mirror over the stack's client (not started: tests refresh it by
     * hand, so that the upstream calls they count are their own).
     */
    mirror?: Partial<MirrorOptions>;
  } = {},
): Promise<Stack> {
  const profile = options.emulator?.profile ?? PROFILE;
  const emulator = await createEmulator({ seed: 'demo', ...options.emulator, profile });
  const config = loadConfig({
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: emulator.token,
    NODE_ENV: 'test',
    // The emulator stands for Keeper unless a test asks for a generic RFC server by name. The
    // mutation suite's second run (TEST_UPSTREAM_PROFILE) keeps Keeper's wording so that one
    // snapshot serves both runs; test/rfc checks the wording for each upstream.
    SCIM_UPSTREAM_KIND: options.emulator?.profile === 'rfc-strict' ? 'scim' : 'keeper',
    ...options.env,
  });
  const upstreamConfig = config.upstream;
  if (!upstreamConfig) throw new Error('test stack has no upstream');
  const scim = createScimClient({
    baseUrl: upstreamConfig.baseUrl,
    token: upstreamConfig.token,
    connectTimeoutMs: config.scim.connectTimeoutMs,
    requestTimeoutMs: config.scim.requestTimeoutMs,
    maxConnections: config.scim.maxConnections,
    retry: { maxRetries: config.scim.maxRetries, minDelayMs: 1, maxDelayMs: 20 },
    ...options.client,
  });
  const upstream = createUpstreamInfo({
    scim,
    baseUrl: upstreamConfig.baseUrl,
    emulated: true,
    config: config.scim,
  });
  if (options.probe !== false) await upstream.ensureProbed();
  const masked: unknown[] = [];
  const lifecycle = createLifecycle();
  const mirror = options.mirror
    ? createMirror({ scim, rolePrefix: upstream.rolePrefix, ...options.mirror })
    : undefined;
  const app = createApp({
    mirror,
    lifecycle,
    config,
    scim,
    upstream,
    logging: false,
    logError: (e) => masked.push(e),
    ...options.app,
  });
  emulator.log.clear();

  return {
    emulator,
    app,
    scim,
    upstream,
    lifecycle,
    mirror,
    masked,
    async run(document, variables, headers = {}) {
      const response = await app.fetch('http://facade.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-upstream-stats': '1', ...headers },
        body: JSON.stringify({ query: print(document), variables: variables ?? {} }),
      });
      return (await response.json()) as GraphQLResponse<never>;
    },
    upstreamCalls: () =>
      emulator.log.entries.map(({ method, path, status }) => ({ method, path, status })),
    resetLog: () => emulator.log.clear(),
    async close() {
      await mirror?.close();
      await scim.close();
      // A test may have closed the emulator already to make the upstream unreachable.
      await emulator.close().catch(() => {});
    },
  };
}
