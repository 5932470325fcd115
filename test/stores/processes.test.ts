import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { type RedisServer, redisAvailable, startRedis } from '../redis.ts';

// `npm start`'s entry point twice, as two replica processes on one Redis and one emulator: the
// wiring of main.ts (REDIS_URL chooses the shared stores), /ready with Redis, and a clean exit.

const root = fileURLToPath(new URL('../..', import.meta.url));

type Proc = { child: ChildProcessWithoutNullStreams; output: () => string; url: string };

async function startFacade(env: Record<string, string>): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: '0', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  for (let i = 0; i < 400; i++) {
    const port = /GraphQL at http:\/\/localhost:(\d+)\/graphql/.exec(output)?.[1];
    if (port) return { child, output: () => output, url: `http://127.0.0.1:${port}` };
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`the facade did not start:\n${output}`);
}

const stop = (proc: Proc) =>
  new Promise<number | null>((resolve) => {
    if (proc.child.exitCode !== null) resolve(proc.child.exitCode);
    proc.child.on('exit', (code) => resolve(code));
    proc.child.kill('SIGTERM');
  });

describe.runIf(redisAvailable)('two replica processes on one Redis', () => {
  let redis: RedisServer;
  let emulator: Emulator;
  const procs: Proc[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    emulator = await createEmulator({ seed: 'demo' });
  });
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await emulator?.close();
    await redis?.close();
  });

  it('replays on B a keyed create sent to A, reports Redis in /ready, and exits 0 on SIGTERM', async () => {
    const env = {
      KEEPER_SCIM_URL: emulator.baseUrl,
      KEEPER_SCIM_TOKEN: emulator.token,
      REDIS_URL: redis.url,
    };
    const [a, b] = await Promise.all([startFacade(env), startFacade(env)]);
    if (!a || !b) throw new Error('two processes');
    procs.push(a, b);
    expect(a.output()).toContain(`shared state on Redis at ${redis.url}`);
    emulator.log.clear();

    const create = async (proc: Proc) => {
      const response = await fetch(`${proc.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': 'proc-1' },
        body: JSON.stringify({
          query:
            'mutation { createTeam(input: { name: "Two processes" }) { ... on CreateTeamPayload { replayed team { keeperId } } } }',
        }),
      });
      return ((await response.json()) as { data: { createTeam: unknown } }).data.createTeam;
    };
    const first = await create(a);
    const again = await create(b);
    expect(again).toEqual({ ...(first as object), replayed: true });
    expect(emulator.log.count('POST', '/Groups')).toBe(1);

    // Ready once its directory mirror has a snapshot (from the replica that holds the lease, as
    // soon as that one has stored its first): poll, as an orchestrator's probe would.
    let ready = await fetch(`${b.url}/ready`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ready = await fetch(`${b.url}/ready`);
    }
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ checks: { redis: true } });

    expect(await Promise.all([stop(a), stop(b)])).toEqual([0, 0]);
  });
});
