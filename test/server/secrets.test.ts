import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEmulator, type Emulator } from '../../src/emulator/index.ts';
import { type Proc, postGraphQL, startProcess, waitFor } from './process.ts';

// The Keeper token and the callers' API keys never reach a log, an error or a response, even when
// the upstream (or a proxy in front of it) echoes the request's Authorization header into the
// `detail` of its SCIM errors. The facade runs as a process; everything it prints is captured.

const TOKEN = 'dXBzdHJlYW0tdG9rZW4tZWNob2VkLWJ5LWEtcHJveHk';
const KEYS = ['portal-key-0123456789abcdef', 'backend-key-fedcba9876543210'];
const SECRETS = [TOKEN, ...KEYS];

let emulator: Emulator;
let stub: Server;
let stubUrl: string;
let echoed = 0;
const requestIds: string[] = [];
let facade: Proc;
let graphqlUrl: string;

/** Statuses the stub answers, by a marker in the path or body, with the Authorization echoed. */
function trigger(req: IncomingMessage, body: string): number | undefined {
  const text = decodeURIComponent(req.url ?? '') + body;
  for (const status of [400, 404, 409, 500]) if (text.includes(`echo${status}`)) return status;
  return undefined;
}

beforeAll(async () => {
  emulator = await createEmulator({ seed: 'demo', token: TOKEN });
  // A proxy in front of the emulator that, for marked requests, answers a SCIM error whose
  // detail quotes the request's headers (as some gateways do).
  stub = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    requestIds.push(String(req.headers['x-request-id']));
    const status = trigger(req, body);
    if (status !== undefined) {
      echoed += 1;
      res.writeHead(status, { 'content-type': 'application/scim+json' });
      res.end(
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'],
          status: String(status),
          ...(status === 409 ? { scimType: 'uniqueness' } : {}),
          detail: `request refused; headers were authorization=${req.headers.authorization} (token ${String(req.headers.authorization).slice(7)})`,
        }),
      );
      return;
    }
    const upstream = await fetch(`${emulator.url}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection'].includes(k)),
      ) as Record<string, string>,
      body: body === '' ? undefined : body,
    });
    res.writeHead(upstream.status, Object.fromEntries(upstream.headers));
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  const { port } = stub.address() as AddressInfo;
  stubUrl = `http://127.0.0.1:${port}${new URL(emulator.baseUrl).pathname}`;

  facade = startProcess(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    NODE_ENV: 'production',
    PORT: '0',
    KEEPER_SCIM_URL: stubUrl,
    KEEPER_SCIM_TOKEN: TOKEN,
    API_KEYS: KEYS.join(','),
    UPSTREAM_MAX_RETRIES: '1',
    LOG_LEVEL: 'debug',
  });
  const [, port2] = await waitFor(facade, /GraphQL at http:\/\/localhost:(\d+)\/graphql/);
  graphqlUrl = `http://127.0.0.1:${port2}/graphql`;
}, 60_000);

afterAll(async () => {
  if (facade.child.exitCode === null) facade.child.kill('SIGKILL');
  await new Promise<void>((resolve) => stub.close(() => resolve()));
  await emulator.close();
});

const answers: { status: number; headers: Headers; body: string }[] = [];
const ask = async (
  query: string,
  key = KEYS[0] as string,
  headers: Record<string, string> = {},
) => {
  const answer = await postGraphQL(graphqlUrl, query, {
    authorization: `Bearer ${key}`,
    ...headers,
  });
  answers.push(answer);
  return { ...answer, json: JSON.parse(answer.body) as { data?: unknown; errors?: unknown[] } };
};

describe('secrets under an upstream that echoes Authorization', () => {
  it('400, 404, 409 and 500 with the token in their detail, through the facade', async () => {
    const rejected = await ask('{ user(userName: "echo400@acme.example") { id } }', KEYS[0], {
      'x-request-id': 'leak-check-400',
    });
    expect(rejected.json.errors).toMatchObject([{ extensions: { code: 'UPSTREAM_REJECTED' } }]);
    // The request id came back, and went upstream with the SCIM call.
    expect(rejected.headers.get('x-request-id')).toBe('leak-check-400');
    expect(requestIds).toContain('leak-check-400');

    const someone = emulator.store.listUsers()[0]?.id as string;
    const id = Buffer.from(`User:${someone}`).toString('base64');
    const missing = await ask(
      `mutation { updateUser(input: { id: "${id}", displayName: "echo404" }) { __typename } }`,
      KEYS[1],
    );
    expect(missing.json).toMatchObject({ data: { updateUser: { __typename: 'NotFoundError' } } });

    const conflict = await ask(
      'mutation { createUser(input: { userName: "echo409@acme.example", displayName: "Echo" }) { __typename ... on Error { message } } }',
    );
    expect(conflict.json).toMatchObject({
      data: { createUser: { __typename: 'EmailAlreadyInUseError' } },
    });

    const failed = await ask('{ user(userName: "echo500@acme.example") { id } }');
    expect(failed.json.errors).toMatchObject([{ extensions: { code: 'UPSTREAM_UNAVAILABLE' } }]);

    // The stub did echo the token for each status (so nothing below passes vacuously).
    expect(echoed).toBeGreaterThanOrEqual(4);
  });

  it('no token and no API key in any response body or header, nor in stdout or stderr', async () => {
    facade.child.kill('SIGTERM');
    expect(await facade.exited).toBe(0);
    for (const secret of SECRETS) {
      for (const answer of answers) {
        expect(answer.body).not.toContain(secret);
        expect(JSON.stringify([...answer.headers])).not.toContain(secret);
      }
      expect(facade.stdout()).not.toContain(secret);
      expect(facade.stderr()).not.toContain(secret);
    }
    // Each request is one access-log line; the expected failures are warn lines without a stack,
    // and the upstream's detail is kept for the operator, redacted.
    const lines = facade
      .stdout()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = lines.filter((l) => l.path === '/graphql');
    expect(access).toHaveLength(4);
    for (const line of access) {
      expect(line.level).toBe('warn');
      expect(JSON.stringify(line)).not.toMatch(/\\n\s+at /);
    }
    const details = access.flatMap((l) =>
      ((l.errors ?? []) as { upstream?: { detail?: string } }[]).map((e) => e.upstream?.detail),
    );
    expect(details.filter((d) => d?.includes('request refused'))).toHaveLength(2);
    for (const detail of details) expect(detail).toContain('Bearer [REDACTED]');
    expect(lines.some((l) => l.level === 'error')).toBe(false);
    expect(facade.output()).not.toContain('\u001b[');
  });
});
