import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { type App, createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import { createScimClient, type ScimClient } from '../../src/scim/client.ts';
import { createSharedState, type SharedState } from '../../src/stores/index.ts';
import { createUpstreamInfo } from '../../src/upstream.ts';
import type { GraphQLResponse } from '../helpers.ts';

// Several replicas of the facade in one test process, each wired as `main.ts` wires one (its own
// SCIM client and pool, its own Redis connections, its own in-process caches), all in front of
// one emulator and sharing whatever `REDIS_URL` gives them.

export type Replica = {
  name: string;
  app: App;
  scim: ScimClient;
  shared: SharedState;
  /** Messages the replica logged (Redis lost / back). */
  logs: string[];
  run<R, V>(
    document: TypedDocumentNode<R, V> | string,
    variables?: V,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<R>>;
};

export type Replicas = {
  emulator: Emulator;
  replicas: Replica[];
  close(): Promise<void>;
};

export async function startReplicas(options: {
  count: number;
  env: Record<string, string>;
  emulator?: EmulatorOptions;
}): Promise<Replicas> {
  const emulator = await createEmulator({ seed: 'demo', ...options.emulator });
  const config = loadConfig({
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: emulator.token,
    NODE_ENV: 'test',
    ...options.env,
  });
  const upstreamConfig = config.upstream;
  if (!upstreamConfig) throw new Error('no upstream');
  const replicas: Replica[] = [];
  for (let i = 0; i < options.count; i++) {
    const logs: string[] = [];
    const shared = createSharedState(config, { log: (m) => logs.push(m) });
    const scim = createScimClient({
      baseUrl: upstreamConfig.baseUrl,
      token: upstreamConfig.token,
      requestTimeoutMs: config.scim.requestTimeoutMs,
      retry: { maxRetries: config.scim.maxRetries, minDelayMs: 1, maxDelayMs: 20 },
      budget: shared.budget,
    });
    const upstream = createUpstreamInfo({
      scim,
      baseUrl: upstreamConfig.baseUrl,
      emulated: true,
      config: config.scim,
    });
    await upstream.ensureProbed();
    const app = createApp({
      config,
      scim,
      upstream,
      idempotency: shared.idempotency,
      locks: shared.locks,
      callerLimiter: shared.callerLimiter,
      readiness: shared.readiness,
      logging: false,
      logError: (e) => logs.push(`masked: ${String(e)}`),
    });
    const name = String.fromCharCode(65 + i);
    replicas.push({
      name,
      app,
      scim,
      shared,
      logs,
      async run(document, variables, headers = {}) {
        const response = await app.fetch('http://facade.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({
            query: typeof document === 'string' ? document : print(document),
            variables: variables ?? {},
          }),
        });
        return (await response.json()) as GraphQLResponse<never>;
      },
    });
  }
  emulator.log.clear();
  return {
    emulator,
    replicas,
    async close() {
      for (const r of replicas) {
        await r.scim.close();
        await r.shared.close();
      }
      await emulator.close().catch(() => {});
    },
  };
}
