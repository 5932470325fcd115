import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { Agent, type Dispatcher } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTracing } from '../../src/tracing.ts';
import { type Stack, startStack } from '../helpers.ts';

// The span tree of a users-with-teams query, from an in-memory exporter: the request's SERVER
// span under the caller's traceparent, one CLIENT span per upstream attempt under it, and the
// attempt's own context sent upstream as traceparent.

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
/** The traceparent header of every request the SCIM client sent. */
const sent: string[] = [];
let stack: Stack;

beforeAll(async () => {
  const dispatcher = new Agent().compose((dispatch: Dispatcher.Dispatch) => (opts, handler) => {
    const headers = opts.headers as Record<string, string>;
    if (headers.traceparent) sent.push(headers.traceparent);
    return dispatch(opts, handler);
  });
  stack = await startStack({
    client: { dispatcher },
    app: { tracing: createTracing(provider.getTracer('test')) },
  });
});
afterAll(() => stack.close());
beforeEach(() => {
  exporter.reset();
  sent.length = 0;
});

const USERS_WITH_TEAMS =
  'query UsersWithTeams { users(first: 5) { edges { node { userName teams { totalCount } } } } }';

const ask = (query: string) =>
  stack.app.fetch('http://facade.test/graphql', {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01`,
      'x-request-id': 'traced-1',
    },
    body: JSON.stringify({ query }),
  });

const tree = () => {
  const spans = exporter.getFinishedSpans();
  const server = spans.filter((s) => s.kind === SpanKind.SERVER);
  const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
  return { spans, server, clients };
};
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('traces', () => {
  it('one span per operation, a child per upstream call, traceparent sent upstream', async () => {
    const response = await ask(USERS_WITH_TEAMS);
    expect(response.status).toBe(200);
    const { spans, server, clients } = tree();
    expect(server).toHaveLength(1);
    const op = server[0] as ReadableSpan;
    expect(op.name).toBe('query UsersWithTeams');
    expect(op.spanContext().traceId).toBe(TRACE_ID);
    expect(parentOf(op)).toBe(CALLER_SPAN);
    expect(op.attributes).toMatchObject({
      'graphql.operation.name': 'UsersWithTeams',
      'graphql.operation.type': 'query',
      'http.response.status_code': 200,
      'keeper.request_id': 'traced-1',
    });
    expect(op.status.code).toBe(SpanStatusCode.UNSET);

    // The two upstream calls of this query (users, then the groups snapshot), under the operation.
    expect(clients.map((s) => s.name).sort()).toEqual(['GET /Groups', 'GET /Users']);
    expect(spans).toHaveLength(3);
    for (const span of clients) {
      expect(span.spanContext().traceId).toBe(TRACE_ID);
      expect(parentOf(span)).toBe(op.spanContext().spanId);
      expect(span.attributes['http.response.status_code']).toBe(200);
    }
    expect(stack.upstreamCalls()).toHaveLength(clients.length);
    expect(sent.sort()).toEqual(
      clients.map((s) => `00-${TRACE_ID}-${s.spanContext().spanId}-01`).sort(),
    );
  });

  it('a retried attempt is its own child span, and a failed request an error span', async () => {
    stack.emulator.faults.enqueue({ method: 'GET', path: '/Users', fault: 503 });
    await ask('query Count { users(first: 2) { totalCount } }');
    const { server, clients } = tree();
    expect(clients.map((s) => [s.name, s.attributes['http.response.status_code']])).toEqual([
      ['GET /Users', 503],
      ['GET /Users', 200],
    ]);
    expect(clients[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(clients[1]?.attributes['http.request.resend_count']).toBe(1);

    exporter.reset();
    await ask('{ users(first: 101) { totalCount } }');
    expect(tree().server[0]?.status.code).toBe(SpanStatusCode.ERROR);
    expect(tree().server[0]?.attributes['graphql.error.codes']).toEqual(['BAD_USER_INPUT']);
    expect(server).toHaveLength(1);
  });
});
