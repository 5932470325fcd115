import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { createRedisConnection, type RedisConnection } from '../src/stores/redis.ts';

// A real redis-server for the shared-state tests, on a Unix socket in a temporary directory (no
// port to race for), without persistence. Debian's `redis-server` package provides the binary
// (.ci/run installs it). Without it the Redis suites are skipped locally with a note; in CI
// (CI=true) a missing binary fails them instead, as the browser tests do for Chromium.

const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
export const redisAvailable = existsSync(REDIS_SERVER);
if (!redisAvailable && process.env.CI) {
  throw new Error(`CI needs redis-server at ${REDIS_SERVER} (apt-get install redis-server)`);
}
if (!redisAvailable) {
  console.warn(
    `Skipping Redis tests: no redis-server at ${REDIS_SERVER} (apt-get install redis-server)`,
  );
}

export type RedisServer = {
  /** `unix:///tmp/…/redis.sock` (or `rediss://127.0.0.1:<port>` with TLS), as REDIS_URL takes it. */
  url: string;
  socket: string;
  /** Stops the server (SIGTERM) and waits for it to exit; the socket file goes away. */
  stop(): Promise<void>;
  /** Starts it again on the same socket, empty (nothing is persisted). */
  start(): Promise<void>;
  /** Stops it and removes the temporary directory. */
  close(): Promise<void>;
};

/** PEM files for a TLS listener: the server's certificate and key, and the CA that signed it. */
export type RedisTls = { cert: string; key: string; ca: string };

/**
 * Starts a redis-server; with `tls`, it listens with TLS on a free loopback port instead of the
 * Unix socket (Redis has no TLS on Unix sockets).
 */
export async function startRedis(options: { tls?: RedisTls } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ksg-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;
  const { tls } = options;
  const tlsPort = tls ? await freePort() : 0;
  const listen = tls
    ? [
        '--port',
        '0',
        '--tls-port',
        String(tlsPort),
        '--bind',
        '127.0.0.1',
        '--tls-cert-file',
        tls.cert,
        '--tls-key-file',
        tls.key,
        '--tls-ca-cert-file',
        tls.ca,
        '--tls-auth-clients',
        'no',
      ]
    : ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700'];

  const start = async () => {
    const proc = spawn(
      REDIS_SERVER,
      [...listen, '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child = proc;
    let stderr = '';
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<never>((_, reject) =>
      proc.once('exit', (code) =>
        reject(new Error(`redis-server exited (${code}) before accepting: ${stderr.trim()}`)),
      ),
    );
    exited.catch(() => {});
    await Promise.race([
      waitForSocket(tls ? { port: tlsPort, host: '127.0.0.1' } : socket),
      exited,
    ]);
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    await gone;
  };

  await start();
  return {
    url: tls ? `rediss://127.0.0.1:${tlsPort}` : `unix://${socket}`,
    socket,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A loopback TCP port nobody listens on right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Resolves once something accepts connections there (polls for up to 10 s). */
async function waitForSocket(where: string | { port: number; host: string }): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = typeof where === 'string' ? connect(where) : connect(where.port, where.host);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) {
      throw new Error(`redis-server did not open ${JSON.stringify(where)} within 10 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One redis-server for a describe block: started in beforeAll, stopped in afterAll after the
 * connections that `connect` opened to it are closed (each stands for one replica).
 */
export function useRedis(): {
  readonly server: RedisServer;
  readonly connections: readonly RedisConnection[];
  connect(keyPrefix: string): RedisConnection;
} {
  let server: RedisServer | undefined;
  const connections: RedisConnection[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of connections) await c.close();
    await server?.close();
  });
  const started = () => {
    if (!server) throw new Error('useRedis: the server starts in beforeAll');
    return server;
  };
  return {
    get server() {
      return started();
    },
    connections,
    connect(keyPrefix) {
      const c = createRedisConnection({
        url: started().url,
        keyPrefix,
        connectTimeoutMs: 5000,
        commandTimeoutMs: 2000,
        tlsCa: undefined,
      });
      connections.push(c);
      return c;
    },
  };
}
