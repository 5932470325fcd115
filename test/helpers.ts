import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import type { App } from '../src/app.ts';
import type { Mirror } from '../src/directory/mirror/mirror.ts';
import {
  createEmulator,
  type Emulator,
  type EmulatorOptions,
  type EmulatorProfile,
} from '../src/emulator/index.ts';
import { createLifecycle, type Lifecycle } from '../src/lifecycle.ts';
import type { ScimClient, ScimClientOptions } from '../src/scim/client.ts';
import { createService, type ServiceOverrides } from '../src/service.ts';
import type { UpstreamInfo } from '../src/upstream.ts';
import { testConfig } from './test-config.ts';

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
  /** The directory mirror (not started: tests refresh it by hand); undefined with MIRROR=off. */
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
const PROFILE: EmulatorProfile =
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
    app?: ServiceOverrides['app'];
  } = {},
): Promise<Stack> {
  const profile = options.emulator?.profile ?? PROFILE;
  const emulator = await createEmulator({ seed: 'demo', ...options.emulator, profile });
  const config = testConfig({
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: emulator.token,
    // The emulator stands for Keeper unless a test asks for a generic RFC server by name. The
    // mutation suite's second run (TEST_UPSTREAM_PROFILE) keeps Keeper's wording so that one
    // snapshot serves both runs; test/rfc checks the wording for each upstream.
    SCIM_UPSTREAM_KIND: options.emulator?.profile === 'rfc-strict' ? 'scim' : 'keeper',
    ...options.env,
  });
  const masked: unknown[] = [];
  const lifecycle = createLifecycle();
  const service = await createService(config, {
    emulated: true,
    client: {
      // Fast retries; the number of retries and every timeout are the configured ones.
      retry: { minDelayMs: 1, maxDelayMs: 20 },
      // No shared upstream budget: the emulator's 429 faults carry Retry-After: 1, which would
      // pause every later call of the test for a second (test/stores/budget.test.ts covers it).
      budget: undefined,
      ...options.client,
    },
    probe: options.probe !== false,
    app: { lifecycle, logging: false, logError: (e) => masked.push(e), ...options.app },
  });
  if (service.probeError) throw service.probeError;
  const { app, scim, upstream } = service;
  emulator.log.clear();

  return {
    emulator,
    app,
    scim,
    upstream,
    lifecycle,
    mirror: service.mirror,
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
      await service.close();
      // A test may have closed the emulator already to make the upstream unreachable.
      await emulator.close().catch(() => {});
    },
  };
}
