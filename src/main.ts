import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, loadConfig } from './config.ts';
import { createEmulator, type Emulator } from './emulator/index.ts';
import { createLifecycle, drainServer } from './lifecycle.ts';
import { createLogger, createRedactor, defaultLogFormat } from './log.ts';
import { createMetrics } from './metrics.ts';
import { createService, type Service } from './service.ts';
import { startTracing } from './tracing.ts';

// The command (`npm start`): load the configuration, start the embedded emulator when no Keeper
// upstream is configured, listen, and shut down cleanly. The only module that binds ports, reads
// signals or exits.

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

  // The demo emulator's token is chosen here, so that the logger knows every secret from the start.
  const demoToken = config.upstream ? undefined : randomBytes(24).toString('base64url');
  // Plain keys that a SIGHUP reload brings are added to it, so they are redacted too.
  const secrets = createRedactor([
    ...(config.upstream ? [config.upstream.token] : []),
    ...(demoToken ? [demoToken] : []),
    ...config.server.apiKeys,
    ...(config.redis?.url ? redisPassword(config.redis.url) : []),
  ]);
  const logger = createLogger({
    level: config.process.logLevel,
    format:
      config.process.logFormat ??
      defaultLogFormat(config.server.production, process.stdout.isTTY === true),
    colorize: process.stdout.isTTY === true,
    secrets,
  });
  const log = (message: string) => logger.info(message);

  // Signals are handled from the first moment: without a handler, SIGTERM kills at once (exit by
  // signal, nothing closed), which would happen to a process stopped while it starts.
  const lifecycle = createLifecycle();
  let emulator: Emulator | undefined;
  let service: Service | undefined;
  let server: Server | undefined;
  let stopTracing: (() => Promise<void>) | undefined;
  const shutdown = async (signal: string) => {
    // npm forwards the signal it got, and a terminal's Ctrl-C reaches the whole process group:
    // the same shutdown may be asked for twice.
    if (lifecycle.draining) return;
    const graceMs = config.process.shutdownGraceMs;
    log(`${signal}: shutting down (/ready answers 503, in-flight requests get ${graceMs} ms)`);
    lifecycle.beginShutdown();
    const outcome = server?.listening ? await drainServer(server, graceMs) : 'drained';
    await service?.close();
    await emulator?.close();
    // Export the last spans before leaving, but never wait on an unreachable collector for long.
    if (stopTracing) {
      await Promise.race([
        stopTracing().catch(() => {}),
        new Promise((resolve) => setTimeout(resolve, 5_000).unref()),
      ]);
    }
    if (outcome === 'forced') {
      logger.warn(`requests still running after ${graceMs} ms were cut off; exiting with status 1`);
      process.exit(1);
    }
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  let upstream = config.upstream;
  if (!upstream) {
    emulator = await createEmulator({
      host: '127.0.0.1',
      port: config.emulatorPort,
      seed: 'demo',
      rolePrefix: config.scim.rolePrefix,
      token: demoToken,
    });
    upstream = { baseUrl: emulator.baseUrl, token: emulator.token };
    log('No KEEPER_SCIM_URL (or KEEPER_REGION + KEEPER_NODE_ID) is set.');
    log(`Serving DEMO DATA from the embedded Keeper SCIM emulator at ${emulator.baseUrl}`);
    log('Set KEEPER_SCIM_URL and KEEPER_SCIM_TOKEN to serve a real Keeper node.');
  }

  const metrics = createMetrics();
  const traces = config.process.tracing.enabled
    ? await startTracing(config.process.tracing.serviceName)
    : undefined;
  stopTracing = traces?.shutdown;
  if (traces) log(`tracing on: spans exported as the OTEL_* variables say`);
  service = await createService(config, {
    upstream,
    emulated: emulator !== undefined,
    log,
    client: { observe: metrics.observeUpstream },
    app: { log: logger, metrics, tracing: traces?.tracing, lifecycle },
  });
  const { shared, upstream: info, callerAuth } = service;
  if (shared.kind === 'redis') log(`shared state on Redis at ${shared.health()?.target}`);
  // The upstream's capabilities were learned now, but the service serves even when it is down:
  // requests probe again.
  if (service.probeError) {
    logger.warn(`upstream probe failed (${service.probeError.message}); serving anyway`);
  } else {
    log(
      `upstream ${upstream.baseUrl}: or-filters ${info.capabilities.orFilters ? 'on' : 'off'}, ${info.userCountHint ?? '?'} users`,
    );
  }
  metrics.watchPool(service.scim, config.scim.maxConnections);
  // The directory mirror: one copy of the node for every request, refreshed in the background
  // (and shared through Redis with the other replicas when REDIS_URL is set).
  if (service.mirror) {
    service.mirror.start();
    log(`directory mirror on: refreshed every ${config.mirror.refreshSeconds} s`);
  }
  // SIGHUP reads the configuration again and takes its keys (API_KEYS_FILE): keys are added,
  // removed or re-scoped without a restart. A configuration with a problem changes nothing.
  process.on('SIGHUP', () => {
    try {
      const reloaded = loadConfig();
      secrets.add(reloaded.server.apiKeys);
      callerAuth.setKeys({ plain: reloaded.server.apiKeys, named: reloaded.server.namedKeys });
      log(
        `SIGHUP: keys reloaded (${reloaded.server.namedKeys.length} named, ${reloaded.server.apiKeys.length} plain)`,
      );
    } catch (error) {
      log(`SIGHUP: keys not reloaded, the keys in use stay. ${(error as Error).message}`);
    }
  });
  const { app } = service;
  const listening = createServer(app);
  server = listening;
  await new Promise<void>((resolve) =>
    listening.listen(config.server.port, config.server.host, resolve),
  );
  if (lifecycle.draining) {
    listening.close();
    return;
  }
  const { port } = listening.address() as AddressInfo;
  const shownHost =
    config.server.host === '0.0.0.0' || config.server.host === '127.0.0.1'
      ? 'localhost'
      : config.server.host;
  log(
    `GraphQL at http://${shownHost}:${port}/graphql${config.server.graphiql ? ' (GraphiQL on)' : ''}`,
  );

  const loopback = ['127.0.0.1', '::1', 'localhost'].includes(config.server.host);
  const callersChecked =
    config.server.apiKeys.length + config.server.namedKeys.length > 0 || config.server.jwt;
  if (!loopback && !callersChecked) {
    logger.warn(
      `listening on ${config.server.host} without API_KEYS, API_KEYS_FILE or JWT_JWKS_URL: anyone who reaches this port can do what the Keeper SCIM token can. Set one, or put an authenticating proxy in front.`,
    );
  }
}

/** The password of a Redis URL, if it carries one: a secret for the log's redaction. */
function redisPassword(url: string): string[] {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password ? [password] : [];
  } catch {
    return [];
  }
}

main().catch((error: unknown) => {
  console.error(
    '[keeper-scim-graphql] failed to start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
