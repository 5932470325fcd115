import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  accepts,
  descendants,
  ensureBuild,
  isRunning,
  type Proc,
  postGraphQL,
  root,
  startProcess,
  waitFor,
} from './process.ts';

// The service as an operator runs it: `npm start` (compiled, node as npm's direct child) stopped
// by a signal sent to npm's pid, and the container image's command run as a non-root user.

const TOKEN = 'cHJvZHVjdGlvbi10ZXN0LXRva2VuLW5ldmVyLWxvZ2dlZA';
const KEY = 'caller-key-0123456789abcdef';
const running: Proc[] = [];
let emulator: Emulator;

beforeAll(async () => {
  ensureBuild();
  emulator = await createEmulator({ seed: 'demo', token: TOKEN });
}, 240_000);
afterEach(() => {
  for (const proc of running.splice(0)) {
    if (proc.child.exitCode === null) proc.child.kill('SIGKILL');
    for (const pid of descendants(proc.child.pid ?? 0)) process.kill(pid, 'SIGKILL');
  }
  emulator.faults.clear();
});
afterAll(() => emulator.close());

// The V8 settings the service runs with, by `npm start` and in the image alike (README, Build and
// start): the young generation's size, and an earlier tier-up of hot functions.
const V8_FLAGS = ['--max-semi-space-size=64', '--interrupt-budget=16384'];

function npmStart(env: Record<string, string> = {}): Proc {
  const proc = startProcess('npm', ['start'], {
    NODE_ENV: 'test',
    PORT: '0',
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: TOKEN,
    ...env,
  });
  running.push(proc);
  return proc;
}

const USERS = '{ users(first: 3) { totalCount edges { node { userName } } } }';

describe('npm start', () => {
  it('runs the compiled server as npm’s only child, with the V8 settings', async () => {
    const npm = npmStart();
    await waitFor(npm, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const tree = descendants(npm.child.pid as number);
    expect(tree).toHaveLength(1);
    const cmdline = readFileSync(`/proc/${tree[0]}/cmdline`, 'utf8').split('\0').filter(Boolean);
    expect(cmdline.slice(1)).toEqual([...V8_FLAGS, 'dist/main.js']);
    npm.child.kill('SIGTERM');
    expect(await npm.exited).toBe(0);
  });

  it('SIGTERM to npm’s pid: in-flight request answered, port closed, nothing left, exit 0', async () => {
    const npm = npmStart();
    const [, port] = await waitFor(npm, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const url = `http://127.0.0.1:${port}/graphql`;
    const tree = descendants(npm.child.pid as number);
    expect(tree.length).toBeGreaterThan(0);

    // A request still waiting for Keeper when the signal arrives (a fresh read: from the
    // directory mirror it would not wait for Keeper at all).
    emulator.faults.set({ latencyMs: 1_500 });
    const inFlight = postGraphQL(url, `query @fresh ${USERS}`);
    for (let i = 0; i < 100 && emulator.log.inFlight === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(emulator.log.inFlight).toBeGreaterThan(0);
    npm.child.kill('SIGTERM');

    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ data: { users: { totalCount: 520 } } });
    expect(await npm.exited).toBe(0);
    expect(npm.output()).toContain('SIGTERM: shutting down');
    expect(npm.output()).toMatch(/stopped/);
    expect(await accepts(Number(port))).toBe(false);
    expect(tree.filter(isRunning)).toEqual([]);
    expect(npm.output()).not.toContain(TOKEN);
  });

  it('SIGINT to npm’s pid stops the whole tree with exit 0', async () => {
    const npm = npmStart();
    const [, port] = await waitFor(npm, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const tree = descendants(npm.child.pid as number);
    npm.child.kill('SIGINT');
    expect(await npm.exited).toBe(0);
    expect(npm.output()).toContain('SIGINT: shutting down');
    expect(await accepts(Number(port))).toBe(false);
    expect(tree.filter(isRunning)).toEqual([]);
  });

  it('serves GraphiQL with its examples from dist/ (the build copies src/graphiql.graphql)', async () => {
    const npm = npmStart();
    const [, port] = await waitFor(npm, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const page = await fetch(`http://127.0.0.1:${port}/graphql`, {
      headers: { accept: 'text/html' },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('mutation OnboardUser');
  });
});

// --- The container image ------------------------------------------------------------------------

const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
/** Instructions with line continuations joined, comments dropped. */
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l !== '' && !l.startsWith('#'));
const stages: string[][] = [];
for (const line of instructions) {
  if (/^FROM\s/i.test(line)) stages.push([]);
  stages.at(-1)?.push(line);
}
const final = stages.at(-1) ?? [];
const finalOf = (keyword: string) => final.filter((l) => l.toUpperCase().startsWith(`${keyword} `));
const entrypoint = JSON.parse(
  (finalOf('ENTRYPOINT')[0] ?? '').replace(/^ENTRYPOINT\s+/i, ''),
) as string[];
/** The final stage's ENV, as the image's environment. */
const imageEnv: Record<string, string> = Object.fromEntries(
  finalOf('ENV').flatMap((l) =>
    [...l.replace(/^ENV\s+/i, '').matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [
      m[1] as string,
      (m[2] as string).replace(/^"|"$/g, ''),
    ]),
  ),
);

describe('Dockerfile', () => {
  it('builds in stages from a Node 20 slim base', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage[0]).toMatch(/^FROM node:20[\w.-]*-slim\b/i);
  });

  it('installs production dependencies only into the final image', () => {
    const installs = instructions.filter((l) => /npm (ci|install)/.test(l));
    const copiedModules = final.filter((l) => /node_modules/.test(l));
    expect(copiedModules).toHaveLength(1);
    const from = /--from=(\S+)/.exec(copiedModules[0] as string)?.[1];
    const stage = stages.find((s) => new RegExp(`\\bAS ${from}$`, 'i').test(s[0] as string)) ?? [];
    expect(stage.some((l) => /npm ci .*--omit=dev/.test(l))).toBe(true);
    expect(final.some((l) => /npm (ci|install)/.test(l))).toBe(false);
    expect(installs.length).toBeGreaterThan(0);
  });

  it('runs node dist/main.js directly as a non-root user, with a health check and a port', () => {
    const user = finalOf('USER').at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    expect(entrypoint).toEqual(['node', ...V8_FLAGS, 'dist/main.js']);
    expect(final.some((l) => /^CMD\s/i.test(l) && /npm/.test(l))).toBe(false);
    expect(finalOf('HEALTHCHECK').join(' ')).toMatch(/\/health/);
    expect(finalOf('EXPOSE').join(' ')).toContain(imageEnv.PORT ?? 'no PORT');
  });

  it('builds dist/ from all of src/ with npm run build, which copies the GraphiQL examples', () => {
    const build = stages.find((s) => /\bAS build$/i.test(s[0] as string)) ?? [];
    expect(build).toContain('COPY src ./src');
    expect(build.some((l) => /^RUN npm run build\b/.test(l))).toBe(true);
    expect(final.some((l) => /^COPY --from=build \/app\/dist \.\/dist$/.test(l))).toBe(true);
  });

  it('puts no secret into any layer', () => {
    for (const line of instructions.filter((l) => /^(ENV|ARG|LABEL)\s/i.test(l))) {
      expect(line).not.toMatch(/TOKEN|API_KEY|SECRET|PASSWORD/i);
    }
    expect(instructions.some((l) => /^(COPY|ADD)\s+\.\s/i.test(l))).toBe(false);
    const ignore = readFileSync(join(root, '.dockerignore'), 'utf8');
    // Everything is excluded except what the build copies.
    expect(ignore.split('\n')).toContain('*');
    expect(ignore).not.toMatch(/^!.*(secret|\.env|node_modules)/im);
  });

  it('compose.yaml reads the token from a secret file', () => {
    const compose = readFileSync(join(root, 'compose.yaml'), 'utf8');
    expect(compose).toMatch(/KEEPER_SCIM_TOKEN_FILE: \/run\/secrets\/(\w+)/);
    const secret = /KEEPER_SCIM_TOKEN_FILE: \/run\/secrets\/(\w+)/.exec(compose)?.[1];
    expect(compose).toMatch(new RegExp(`^  ${secret}:\\n    file: \\S+`, 'm'));
    expect(compose).not.toMatch(/KEEPER_SCIM_TOKEN:/);
  });
});

describe('the image’s command as a non-root user', () => {
  const root_ = process.getuid?.() === 0;
  // Switching to another user needs root; elsewhere this test is reported as skipped.
  it.skipIf(!root_)(
    'serves and stops cleanly as nobody with the image’s environment (needs root)',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'keeper-image-'));
      chmodSync(dir, 0o755);
      try {
        writeFileSync(join(dir, 'token'), `${TOKEN}\n`, { mode: 0o644 });
        writeFileSync(join(dir, 'keys'), `${KEY}\n`, { mode: 0o644 });
        const proc = startProcess(
          'setpriv',
          ['--reuid=65534', '--regid=65534', '--clear-groups', '--', ...entrypoint],
          {
            ...imageEnv,
            PORT: '0',
            KEEPER_SCIM_URL: emulator.baseUrl,
            KEEPER_SCIM_TOKEN_FILE: join(dir, 'token'),
            API_KEYS_FILE: join(dir, 'keys'),
          },
        );
        running.push(proc);
        const [, port] = await waitFor(proc, /GraphQL at http:\/\/[^:]+:(\d+)\/graphql/);
        const pid = descendants(proc.child.pid as number)[0] ?? (proc.child.pid as number);
        expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^Uid:\s+65534\b/m);
        expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
        // Ready once the directory mirror has its first snapshot (MIRROR=on): poll, as an
        // orchestrator does.
        let ready = 0;
        for (let i = 0; i < 100 && ready !== 200; i++) {
          if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
          ready = (await fetch(`http://127.0.0.1:${port}/ready`)).status;
        }
        expect(ready).toBe(200);
        const answer = await postGraphQL(`http://127.0.0.1:${port}/graphql`, USERS, {
          authorization: `Bearer ${KEY}`,
        });
        expect(JSON.parse(answer.body)).toMatchObject({ data: { users: { totalCount: 520 } } });
        proc.child.kill('SIGTERM');
        expect(await proc.exited).toBe(0);
        expect(await accepts(Number(port))).toBe(false);
        expect(proc.output()).not.toContain(TOKEN);
        expect(proc.output()).not.toContain(KEY);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});
