import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { afterEach } from 'vitest';
import type { App } from '../../src/app.ts';
import { createEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.ts';
import type { ScimClient } from '../../src/scim/client.ts';
import { createService } from '../../src/service.ts';
import type { SharedState } from '../../src/stores/index.ts';
import type { GraphQLResponse } from '../helpers.ts';
import { useRedis } from '../redis.ts';
import { testConfig } from '../test-config.ts';

// Several replicas of the facade in one test process, each wired as `main.ts` wires one (its own
// SCIM client and pool, its own Redis connections, its own in-process caches), all in front of
// one emulator and sharing whatever `REDIS_URL` gives them.

type Replica = {
  name: string;
  app: App;
  scim: ScimClient;
  shared: SharedState;
  /** Messages the replica logged (Redis lost / back). */
  logs: string[];
  /** Closes its SCIM client and its Redis connections. */
  close(): Promise<void>;
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
  const config = testConfig({
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: emulator.token,
    ...options.env,
  });
  const replicas: Replica[] = [];
  for (let i = 0; i < options.count; i++) {
    const logs: string[] = [];
    const service = await createService(config, {
      emulated: true,
      log: (m) => logs.push(m),
      client: { retry: { minDelayMs: 1, maxDelayMs: 20 } },
      app: { logging: false, logError: (e) => logs.push(`masked: ${String(e)}`) },
    });
    if (service.probeError) throw service.probeError;
    const { app, scim, shared } = service;
    const name = String.fromCharCode(65 + i);
    replicas.push({
      name,
      app,
      scim,
      shared,
      logs,
      close: () => service.close(),
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
      for (const r of replicas) await r.close();
      await emulator.close().catch(() => {});
    },
  };
}

/**
 * For a describe block: one Redis server for the block (useRedis) and the replicas each test
 * starts on it (REDIS_URL set), closed after the test. `redis` is the server, to stop and restart.
 */
export function useReplicasOnRedis() {
  const redis = useRedis();
  let stack: Replicas | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });
  return {
    get redis() {
      return redis.server;
    },
    async start(options: {
      count: number;
      env?: Record<string, string>;
      emulator?: EmulatorOptions;
    }): Promise<Replicas> {
      stack = await startReplicas({
        ...options,
        env: { REDIS_URL: redis.server.url, ...options.env },
      });
      return stack;
    },
  };
}
