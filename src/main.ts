import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { createEmulator, type Emulator } from './emulator/index.ts';
import { createScimClient } from './scim/client.ts';
import { createSharedState } from './stores/index.ts';
import { createUpstreamInfo } from './upstream.ts';

// The command (`npm start`): load the configuration, start the embedded emulator when no Keeper
// upstream is configured, listen, and shut down cleanly. The only module that binds ports, reads
// signals or exits (style.md rules 1 and 2).

const log = (message: string) => console.log(`[keeper-scim-graphql] ${message}`);

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }

  let emulator: Emulator | undefined;
  let upstream = config.upstream;
  if (!upstream) {
    emulator = await createEmulator({
      host: '127.0.0.1',
      port: config.emulatorPort,
      seed: 'demo',
      rolePrefix: config.scim.rolePrefix,
    });
    upstream = { baseUrl: emulator.baseUrl, token: emulator.token };
    log('No KEEPER_SCIM_URL (or KEEPER_REGION + KEEPER_NODE_ID) is set.');
    log(`Serving DEMO DATA from the embedded Keeper SCIM emulator at ${emulator.baseUrl}`);
    log('Set KEEPER_SCIM_URL and KEEPER_SCIM_TOKEN to serve a real Keeper node.');
  }

  // Idempotency keys, group locks and the upstream budget: in memory, or on Redis for replicas.
  const shared = createSharedState(config, { log });
  if (shared.kind === 'redis') log(`shared state on Redis at ${shared.health()?.target}`);

  const scim = createScimClient({
    baseUrl: upstream.baseUrl,
    token: upstream.token,
    connectTimeoutMs: config.scim.connectTimeoutMs,
    requestTimeoutMs: config.scim.requestTimeoutMs,
    maxConnections: config.scim.maxConnections,
    retry: { maxRetries: config.scim.maxRetries },
    budget: shared.budget,
  });
  const info = createUpstreamInfo({
    scim,
    baseUrl: upstream.baseUrl,
    emulated: emulator !== undefined,
    config: config.scim,
  });
  // Learn the upstream's capabilities now, but serve even when it is down: requests re-probe.
  await info.ensureProbed().then(
    () =>
      log(
        `upstream ${upstream.baseUrl}: or-filters ${info.capabilities.orFilters ? 'on' : 'off'}, ${info.userCountHint ?? '?'} users`,
      ),
    (error: unknown) => log(`upstream probe failed (${(error as Error).message}); serving anyway`),
  );

  const app = createApp({
    config,
    scim,
    upstream: info,
    idempotency: shared.idempotency,
    readiness: shared.readiness,
  });
  const server = createServer(app);
  await new Promise<void>((resolve) =>
    server.listen(config.server.port, config.server.host, resolve),
  );
  const { port } = server.address() as AddressInfo;
  const shownHost =
    config.server.host === '0.0.0.0' || config.server.host === '127.0.0.1'
      ? 'localhost'
      : config.server.host;
  log(
    `GraphQL at http://${shownHost}:${port}/graphql${config.server.graphiql ? ' (GraphiQL on)' : ''}`,
  );

  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.server.host);
  if (!loopback && config.server.apiKeys.length === 0) {
    log(
      `WARNING: listening on ${config.server.host} without API_KEYS: anyone who reaches this port can do what the Keeper SCIM token can. Set API_KEYS or put an authenticating proxy in front.`,
    );
  }

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: shutting down`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.closeIdleConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await scim.close();
    await shared.close();
    await emulator?.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(
    '[keeper-scim-graphql] failed to start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
