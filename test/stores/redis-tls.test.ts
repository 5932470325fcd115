import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SharedStateUnavailableError } from '../../src/stores/errors.ts';
import { createSharedState, type SharedState } from '../../src/stores/index.ts';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';
import { testConfig } from '../test-config.ts';

// rediss:// with a private CA (REDIS_TLS_CA_FILE), against redis-server's own TLS listener.
// The certificates are made for the test with the openssl command (Debian's openssl package);
// without it the suite is skipped with a note.

const OPENSSL = '/usr/bin/openssl';
const canRun = redisAvailable && existsSync(OPENSSL);
if (redisAvailable && !canRun) console.warn(`Skipping Redis TLS tests: no ${OPENSSL}`);

describe.runIf(canRun)('Redis over TLS', () => {
  let dir: string;
  let redis: RedisServer;
  const states: SharedState[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ksg-tls-'));
    const run = (...args: string[]) => execFileSync(OPENSSL, args, { cwd: dir, stdio: 'ignore' });
    run(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
    );
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      '/CN=localhost',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    run(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      'san.ext',
      '-out',
      'server.crt',
    );
    redis = await startRedis({
      tls: { cert: join(dir, 'server.crt'), key: join(dir, 'server.key'), ca: join(dir, 'ca.crt') },
    });
  });
  afterAll(async () => {
    for (const s of states) await s.close();
    await redis?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const shared = (env: Record<string, string>) => {
    const state = createSharedState(
      testConfig({ REDIS_URL: redis.url, REDIS_CONNECT_TIMEOUT_MS: '3000', ...env }),
    );
    states.push(state);
    return state;
  };

  it('connects with the CA from REDIS_TLS_CA_FILE and keeps idempotency keys there', async () => {
    const state = shared({ REDIS_TLS_CA_FILE: join(dir, 'ca.crt') });
    expect(await state.readiness[0]?.check()).toBe(true);
    expect(await state.idempotency.begin('k', 'fp')).toEqual({
      state: 'new',
      previousUncertain: false,
    });
  });

  it('refuses a server whose certificate it cannot verify: not ready, keyed mutations refused', async () => {
    const state = shared({});
    expect(await state.readiness[0]?.check()).toBe(false);
    await expect(state.idempotency.begin('k2', 'fp')).rejects.toBeInstanceOf(
      SharedStateUnavailableError,
    );
    expect(state.health()).toMatchObject({ state: 'down' });
  });
});
