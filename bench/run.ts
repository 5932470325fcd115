import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createEmulator, type Emulator } from '../src/emulator/index.ts';
import { createScimClient, type ScimClient } from '../src/scim/client.ts';
import { userEq } from '../src/scim/filter.ts';
import { createUpstreamInfo } from '../src/upstream.ts';

// `npm run bench` (a benchmark, not a test): for each canonical question, the upstream calls the
// facade makes (from the emulator's request log) and its latency over HTTP, beside the latency of
// fetching the same data with direct SCIM calls (the same requests, issued by hand in parallel
// where they can be), at an added upstream latency of 0 ms and 20 ms. The ratio is
// facade p50 / direct p50: what the GraphQL layer (parsing, validation, batching, serialising)
// costs on top of the upstream round trips.
//
// Options: BENCH_ITERATIONS (default 40), BENCH_LATENCIES (default "0,20"),
// BENCH_PROFILE (keeper | rfc, default keeper), BENCH_GROUP_MEMBERS (include | omit).

const iterations = Number(process.env.BENCH_ITERATIONS ?? 40);
const latencies = (process.env.BENCH_LATENCIES ?? '0,20').split(',').map(Number);
const profile = process.env.BENCH_PROFILE === 'rfc' ? 'rfc' : 'keeper';
const groupMembers = process.env.BENCH_GROUP_MEMBERS === 'omit' ? 'omit' : 'include';

type Case = {
  name: string;
  query: string;
  variables?: (emulator: Emulator) => Record<string, unknown>;
  direct: (scim: ScimClient, emulator: Emulator) => Promise<unknown>;
};

const cases: Case[] = [
  {
    name: '50 users + teams + roles',
    query: `{ users(first: 50) { totalCount edges { node { id userName displayName active
      teams(first: 20) { edges { node { name } } } roles(first: 20) { edges { node { name } } } } } } }`,
    direct: (scim) =>
      Promise.all([
        scim.users.list({ startIndex: 1, count: 50 }),
        scim.groups.listAll({ pageSize: 500 }),
      ]),
  },
  {
    name: '20 teams + 20 members each',
    query: `{ teams(first: 20) { totalCount edges { node { id name
      members(first: 20) { totalCount edges { node { userName displayName } } } } } } }`,
    direct: (scim) =>
      Promise.all([scim.groups.listAll({ pageSize: 500 }), scim.users.listAll({ pageSize: 500 })]),
  },
  {
    name: 'nodes(50 user ids)',
    query: 'query($ids: [ID!]!) { nodes(ids: $ids) { id ... on User { userName } } }',
    variables: (emulator) => ({
      ids: emulator.store
        .listUsers()
        .filter((_, i) => i % 10 === 0)
        .slice(0, 50)
        .map((u) => Buffer.from(`User:${u.id}`).toString('base64')),
    }),
    direct: (scim) => scim.users.listAll({ pageSize: 500 }),
  },
  {
    name: 'user by userName + teams',
    query: `query($u: String!) { user(userName: $u) { id displayName teams { edges { node { name } } } } }`,
    variables: (emulator) => ({ u: emulator.store.listUsers()[42]?.userName }),
    direct: (scim, emulator) =>
      Promise.all([
        scim.users.list({
          filter: userEq('userName', emulator.store.listUsers()[42]?.userName ?? ''),
          count: 10,
        }),
        scim.groups.listAll({ pageSize: 500 }),
      ]),
  },
];

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;

async function time(fn: () => Promise<unknown>): Promise<{ p50: number; p95: number }> {
  for (let i = 0; i < 3; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95) };
}

async function run(latencyMs: number) {
  const emulator = await createEmulator({ seed: 'demo', latencyMs, profile, groupMembers });
  const config = loadConfig({
    KEEPER_SCIM_URL: emulator.baseUrl,
    KEEPER_SCIM_TOKEN: emulator.token,
    NODE_ENV: 'production',
  });
  // The facade's client as `npm start` configures it; the direct baseline uses the defaults.
  const scim = createScimClient({
    baseUrl: emulator.baseUrl,
    token: emulator.token,
    connectTimeoutMs: config.scim.connectTimeoutMs,
    requestTimeoutMs: config.scim.requestTimeoutMs,
    maxConnections: config.scim.maxConnections,
    retry: { maxRetries: config.scim.maxRetries },
  });
  const direct = createScimClient({ baseUrl: emulator.baseUrl, token: emulator.token });
  const upstream = createUpstreamInfo({
    scim,
    baseUrl: emulator.baseUrl,
    emulated: true,
    config: config.scim,
  });
  await upstream.ensureProbed();
  const app = createApp({ config, scim, upstream, logging: false });
  const server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;

  const rows: string[][] = [];
  try {
    for (const c of cases) {
      const body = JSON.stringify({ query: c.query, variables: c.variables?.(emulator) ?? {} });
      const ask = async () => {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        const json = (await response.json()) as { errors?: unknown[] };
        if (json.errors) throw new Error(`${c.name}: ${JSON.stringify(json.errors)}`);
      };
      emulator.log.clear();
      await ask();
      const calls = emulator.log.entries.length;
      emulator.log.clear();
      await c.direct(direct, emulator);
      const directCalls = emulator.log.entries.length;
      const facade = await time(ask);
      const baseline = await time(() => c.direct(direct, emulator));
      rows.push([
        `${latencyMs} ms`,
        c.name,
        String(calls),
        String(directCalls),
        facade.p50.toFixed(1),
        facade.p95.toFixed(1),
        baseline.p50.toFixed(1),
        baseline.p95.toFixed(1),
        (facade.p50 / baseline.p50).toFixed(2),
      ]);
    }
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await scim.close();
    await direct.close();
    await emulator.close();
  }
  return rows;
}

const header = [
  'upstream latency',
  'query',
  'facade calls',
  'direct calls',
  'facade p50 ms',
  'facade p95 ms',
  'direct p50 ms',
  'direct p95 ms',
  'ratio p50',
];
const rows: string[][] = [];
for (const latency of latencies) rows.push(...(await run(latency)));

console.log(
  `profile=${profile} groupMembers=${groupMembers} iterations=${iterations} node=${process.version}\n`,
);
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const row of rows) console.log(`| ${row.join(' | ')} |`);
