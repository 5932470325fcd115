import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// The two commands of the README as processes: `npm run emulator` and `npm start`, each started
// on port 0, asked a question over HTTP, then stopped with SIGTERM.

const root = fileURLToPath(new URL('../..', import.meta.url));
const running: ChildProcessWithoutNullStreams[] = [];

type Proc = {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exited: Promise<number | null>;
};

function start(file: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', file], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
  });
  running.push(child);
  let output = '';
  child.stdout.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(proc: Proc, pattern: RegExp): Promise<RegExpMatchArray> {
  for (let i = 0; i < 300; i++) {
    const match = proc.output().match(pattern);
    if (match) return match;
    if (proc.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in output:\n${proc.output()}`);
}

async function stop(proc: Proc): Promise<number | null> {
  proc.child.kill('SIGTERM');
  return proc.exited;
}

const graphql = async (url: string, query: string) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query }),
  });
  return (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
};

afterEach(() => {
  for (const child of running.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

describe('commands', () => {
  it('npm run emulator answers GET <base>/Users?startIndex=1&count=2 with the printed token', async () => {
    const emulator = start('src/emulator/main.ts', { EMULATOR_PORT: '0' });
    const [, base] = await waitFor(emulator, /base URL: (\S+)/);
    const [, token] = await waitFor(emulator, /token: +(\S+)/);
    const response = await fetch(`${base}/Users?startIndex=1&count=2`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      totalResults: number;
      itemsPerPage: number;
      Resources: unknown[];
    };
    expect(body).toMatchObject({ totalResults: 520, startIndex: 1, itemsPerPage: 2 });
    expect(body.Resources).toHaveLength(2);
    expect(await stop(emulator)).toBe(0);
  });

  it('npm start serves a configured upstream, never logs its token, and stops on SIGTERM', async () => {
    const token = 'dGVzdC10b2tlbi10aGF0LW11c3Qtbm90LWxlYWstMTIzNDU';
    const emulator = start('src/emulator/main.ts', {
      EMULATOR_PORT: '0',
      EMULATOR_TOKEN: token,
      EMULATOR_PROFILE: 'rfc',
    });
    const [, base] = await waitFor(emulator, /base URL: (\S+)/);
    const facade = start('src/main.ts', {
      KEEPER_SCIM_URL: base as string,
      KEEPER_SCIM_TOKEN: token,
      PORT: '0',
    });
    const [, port] = await waitFor(facade, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    const result = await graphql(
      `http://127.0.0.1:${port}/graphql`,
      '{ upstream { emulated baseUrl capabilities { orFilters } } users(first: 2) { totalCount } }',
    );
    expect(result).toMatchObject({
      data: {
        upstream: { emulated: false, baseUrl: base, capabilities: { orFilters: true } },
        users: { totalCount: 520 },
      },
    });
    expect(await stop(facade)).toBe(0);
    expect(facade.output()).toContain('SIGTERM: shutting down');
    expect(facade.output()).not.toContain(token);
    expect(await stop(emulator)).toBe(0);
  });

  it('npm start without an upstream serves the embedded emulator and says it is demo data', async () => {
    const facade = start('src/main.ts', { PORT: '0' });
    const [, port] = await waitFor(facade, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
    expect(facade.output()).toContain('Serving DEMO DATA from the embedded Keeper SCIM emulator');
    const result = await graphql(`http://127.0.0.1:${port}/graphql`, '{ upstream { emulated } }');
    expect(result.data).toEqual({ upstream: { emulated: true } });
    expect(await stop(facade)).toBe(0);
  });

  it('refuses to serve demo data in production: exit status 2 naming the missing variable', async () => {
    const facade = start('src/main.ts', { PORT: '0', NODE_ENV: 'production' });
    expect(await facade.exited).toBe(2);
    expect(facade.output()).toContain('KEEPER_SCIM_URL');
    expect(facade.output()).toContain('DEMO=true');
    expect(facade.output()).not.toContain('Serving DEMO DATA');
  });

  it('refuses a bad configuration with every problem and exit status 2, without the token', async () => {
    const token = 'c2VjcmV0LXRva2VuLXRoYXQtbXVzdC1ub3QtYmUtZWNob2Vk';
    const facade = start('src/main.ts', {
      PORT: 'x',
      KEEPER_REGION: 'moon',
      KEEPER_SCIM_TOKEN: token,
    });
    expect(await facade.exited).toBe(2);
    expect(facade.output()).toContain('PORT must be a whole number');
    expect(facade.output()).toContain('KEEPER_REGION must be one of us, eu, au, jp, ca, gov');
    expect(facade.output()).not.toContain(token);
  });
});
