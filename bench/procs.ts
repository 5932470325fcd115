import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Pool } from 'undici';

// Processes for the benchmark: the emulator and each facade run apart from the load generator,
// and a facade's CPU is read from /proc (every thread of it: the GC's helper threads count), so
// that the old code, which cannot report its own CPU, is measured the same way as the new.

type Proc = { child: ChildProcess; pid: number; stop(): Promise<void> };

/**
 * The node flags the checkout at `root` runs its facade with: those of its `npm start` (`exec node
 * <flags> dist/main.js`). A checkout from before that start command ran under tsx without flags;
 * it gets the young-generation size the bench always gave it, so that older figures stay
 * comparable.
 */
function startFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
    scripts?: { start?: string };
  };
  const flags = /\bnode((?:\s+--\S+)*)\s+dist\/main\.js/.exec(pkg.scripts?.start ?? '')?.[1];
  return flags === undefined
    ? ['--max-semi-space-size=64']
    : flags.trim().split(/\s+/).filter(Boolean);
}

function start(script: string, cwd: string, env: Record<string, string>, flags: string[] = []) {
  // TypeScript through tsx; the compiled facade (dist/, plain JavaScript) with node alone.
  const loader = script.endsWith('.js') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...flags, ...loader, script], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const stop = () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return { child, pid: child.pid as number, stop };
}

export type EmulatorProc = Proc & { include: string; omit: string; token: string; users: number };

/** The emulator (demo data grown to `users`), in its own process. */
export async function startEmulatorProcess(users: number): Promise<EmulatorProc> {
  const proc = start(resolve(import.meta.dirname, 'emulator-process.ts'), process.cwd(), {
    BENCH_USERS: String(users),
  });
  const line = await new Promise<string>((done, fail) => {
    const rl = createInterface({ input: proc.child.stdout as NodeJS.ReadableStream });
    rl.once('line', done);
    proc.child.once('exit', (code) => fail(new Error(`emulator exited with ${code}`)));
  });
  return { ...proc, ...(JSON.parse(line) as Omit<EmulatorProc, keyof Proc>) };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

export type FacadeProc = Proc & { url: string; label: string };

/**
 * The facade of the checkout at `root` (this one, or an older one to compare with), started as
 * `npm start` runs it: compiled to `dist/` by `scripts/ensure-build.mjs` (when `src/` changed) and
 * run by node with the start command's flags (`startFlags`). A checkout without that script
 * (before the compiled start) runs `src/main.ts` through tsx, as its own `npm start` did.
 */
export async function startFacade(
  label: string,
  root: string,
  upstream: { url: string; token: string },
  env: Record<string, string> = {},
): Promise<FacadeProc> {
  const port = await freePort();
  const compiled = existsSync(resolve(root, 'scripts/ensure-build.mjs'));
  if (compiled) {
    const build = spawnSync(process.execPath, ['scripts/ensure-build.mjs'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error(`${label}: the build of ${root} failed`);
  }
  const proc = start(
    compiled ? 'dist/main.js' : 'src/main.ts',
    root,
    {
      KEEPER_SCIM_URL: upstream.url,
      KEEPER_SCIM_TOKEN: upstream.token,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      // Per-request access logs are another issue's cost; stats only when asked by header.
      LOG_LEVEL: 'warn',
      UPSTREAM_STATS_FOR: 'everyone',
      ...env,
    },
    startFlags(root),
  );
  proc.child.stdout?.resume();
  const url = `http://127.0.0.1:${port}`;
  /** Asks `path` every 100 ms until `done(status)` (a refused connection: status 0). */
  const poll = async (path: string, done: (status: number) => boolean, tries: number) => {
    for (let i = 0; ; i++) {
      const status = await fetch(`${url}${path}`).then(
        (r) => r.status,
        () => 0, // not listening yet
      );
      if (done(status)) return;
      if (i > tries || proc.child.exitCode !== null) {
        throw new Error(`${label} facade: ${path} never answered as expected`);
      }
      await new Promise((wait) => setTimeout(wait, 100));
    }
  };
  await poll('/health', (status) => status === 200, 300);
  // Ready: with the mirror on, its first read of the whole node is done. Until then it competes
  // with whatever is measured for the emulator (at 100 000 users the first question of the scale
  // table, a users page read per request, took 138 ms instead of about 10). A checkout without
  // `/ready` (404) is taken as ready.
  await poll('/ready', (status) => status === 200 || status === 404, 3000);
  return { ...proc, url: `${url}/graphql`, label };
}

/** CPU time of every thread of `pid` so far, in ms (scheduler nanoseconds, not 10 ms ticks). */
export function cpuMs(pid: number): number {
  let ns = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return ns / 1e6;
}

/** Peak resident memory since the last `resetPeakRss`, in MB. */
export function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not permitted here: the peak then counts from the process start
  }
}

/** Plain SCIM calls: undici and JSON.parse, nothing else (the floor any client pays). */
export function plainScim(baseUrl: string, token: string) {
  const url = new URL(baseUrl);
  const pool = new Pool(url.origin, { connections: 16 });
  const get = async (pathAndQuery: string): Promise<unknown> => {
    const { body } = await pool.request({
      method: 'GET',
      path: `${url.pathname}${pathAndQuery}`,
      headers: { authorization: `Bearer ${token}`, accept: 'application/scim+json' },
    });
    return JSON.parse(await body.text());
  };
  return { get, close: () => pool.close() };
}

export type GraphQLAnswer = {
  data?: unknown;
  errors?: { message: string; extensions?: { code?: string } }[];
  extensions?: { upstream?: { calls: number; rounds?: number } };
};

/** One GraphQL request over HTTP. */
export async function ask(url: string, body: string, stats = false): Promise<GraphQLAnswer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(stats ? { 'x-upstream-stats': '1' } : {}) },
    body,
  });
  return (await response.json()) as GraphQLAnswer;
}

export const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
