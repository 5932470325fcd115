import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_BODY_BYTES, useRequestBodyLimit } from '../../src/body-limit.ts';
import { type Stack, startStack } from '../helpers.ts';

// The request body limit (src/body-limit.ts) over real HTTP: a body that states its length is
// refused by that length, one that does not (chunked) by what arrives.

const LIMIT = 64;
const schema = createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: {} });

async function listen(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql` };
}
const close = (server: Server) => new Promise((done) => server.close(done));

/** The body as a stream, which fetch sends chunked, without Content-Length. */
const chunked = (text: string) =>
  new ReadableStream<Uint8Array>({
    start(controller) {
      const bytes = new TextEncoder().encode(text);
      for (let at = 0; at < bytes.length; at += 16) controller.enqueue(bytes.slice(at, at + 16));
      controller.close();
    },
  });

async function post(url: string, body: string | ReadableStream<Uint8Array>) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    duplex: 'half',
  } as RequestInit);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const padded = (bytes: number) => {
  const base = JSON.stringify({ query: '{ ok }', extensions: { pad: '' } });
  return JSON.stringify({ query: '{ ok }', extensions: { pad: 'x'.repeat(bytes - base.length) } });
};

describe('request body limit', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const yoga = createYoga({
      schema,
      logging: false,
      maxRequestBodySize: false,
      plugins: [useRequestBodyLimit(LIMIT)],
    });
    ({ server, url } = await listen(yoga));
  });
  afterAll(() => close(server));

  const tooLarge = {
    errors: [
      { message: 'Request body too large', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } },
    ],
  };

  it('answers a body of exactly the limit, with or without Content-Length', async () => {
    expect(padded(LIMIT)).toHaveLength(LIMIT);
    expect(await post(url, padded(LIMIT))).toEqual({ status: 200, body: { data: { ok: null } } });
    expect(await post(url, chunked(padded(LIMIT)))).toEqual({
      status: 200,
      body: { data: { ok: null } },
    });
  });

  it('refuses a longer one by its Content-Length', async () => {
    expect(await post(url, padded(LIMIT + 1))).toEqual({ status: 413, body: tooLarge });
  });

  it('refuses a longer chunked one by the bytes that arrived', async () => {
    expect(await post(url, chunked(padded(LIMIT + 1)))).toEqual({ status: 413, body: tooLarge });
  });
});

describe('the service', () => {
  let stack: Stack;
  let server: Server;
  let url: string;
  beforeAll(async () => {
    stack = await startStack();
    ({ server, url } = await listen(stack.app));
  });
  afterAll(async () => {
    await close(server);
    await stack.close();
  });

  it('keeps Yoga’s 25 MB limit, before any upstream call', async () => {
    stack.resetLog();
    const answer = await post(url, padded(MAX_REQUEST_BODY_BYTES + 1));
    expect(answer.status).toBe(413);
    expect(answer.body.errors).toEqual([
      expect.objectContaining({ extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }),
    ]);
    expect(stack.upstreamCalls()).toEqual([]);
    const ok = await post(url, chunked(JSON.stringify({ query: '{ __typename }' })));
    expect(ok.status).toBe(200);
    expect(ok.body.data).toEqual({ __typename: 'Query' });
  });
});
