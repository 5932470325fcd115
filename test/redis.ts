import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// A real redis-server for the shared-state tests, on a Unix socket in a temporary directory (no
// port to race for), without persistence. Debian's `redis-server` package provides the binary
// (.ci/run installs it). Without it the Redis suites are skipped locally with a note; in CI
// (CI=true) a missing binary fails them instead, as the browser tests do for Chromium.

export const REDIS_SERVER = process.env.REDIS_SERVER_PATH ?? '/usr/bin/redis-server';
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
  /** `unix:///tmp/…/redis.sock`, as REDIS_URL takes it. */
  url: string;
  socket: string;
  /** Stops the server (SIGTERM) and waits for it to exit; the socket file goes away. */
  stop(): Promise<void>;
  /** Starts it again on the same socket, empty (nothing is persisted). */
  start(): Promise<void>;
  /** Stops it and removes the temporary directory. */
  close(): Promise<void>;
};

export async function startRedis(): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ksg-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      REDIS_SERVER,
      [
        '--port',
        '0',
        '--unixsocket',
        socket,
        '--unixsocketperm',
        '700',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--loglevel',
        'warning',
      ],
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
    await Promise.race([waitForSocket(socket), exited]);
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
    url: `unix://${socket}`,
    socket,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Resolves once something accepts connections on the socket (polls for up to 10 s). */
async function waitForSocket(path: string): Promise<void> {
  const until = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(path);
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`redis-server did not open ${path} within 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
