import {
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { ExecutionResult } from 'graphql';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { MirrorObserver } from './directory/mirror/mirror.ts';
import { requestId } from './request-scope.ts';
import type { AttemptObserver } from './scim/client.ts';

// OpenTelemetry traces: one SERVER span per GraphQL request (named after its operation, a child
// of the caller's `traceparent` when it sends one), and one CLIENT span per HTTP attempt upstream
// (retries included) as its child, whose context goes upstream as `traceparent`. Spans are parented
// explicitly through the request, not through an async context, so a DataLoader batch that serves
// several resolvers still lands under its request. The SDK and its OTLP exporter are started by
// `startTracing` only when the standard OTEL_* variables ask for it.

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};
const recordSetter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

export type Tracing = {
  /** Yoga plugin: the request's span. */
  plugin: Plugin;
  /** Per-request observer: a span per upstream attempt, and its `traceparent` header. */
  observeUpstream(request: Request): AttemptObserver;
  /** A root span per refresh of the directory mirror, parent of that refresh's upstream attempts. */
  observeMirror: MirrorObserver;
};

export function createTracing(tracer: Tracer): Tracing {
  const spans = new WeakMap<Request, Span>();
  const GRAPHQL_PATH = '/graphql';

  const plugin: Plugin = {
    onRequest({ request, url }) {
      if (url.pathname !== GRAPHQL_PATH || request.method === 'OPTIONS') return;
      const parent = propagator.extract(context.active(), request.headers, headerGetter);
      const span = tracer.startSpan(
        'graphql',
        {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': request.method,
            'url.path': url.pathname,
            'keeper.request_id': requestId(request),
          },
        },
        parent,
      );
      spans.set(request, span);
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const span = request && spans.get(request);
      if (!span) return;
      const operation = getOperationAST(args.document, args.operationName);
      const type = operation?.operation ?? 'unknown';
      const name = operation?.name?.value;
      span.updateName(name ? `${type} ${name}` : type);
      span.setAttribute('graphql.operation.type', type);
      if (name) span.setAttribute('graphql.operation.name', name);
    },
    onResultProcess({ request, result }) {
      const span = spans.get(request);
      if (!span) return;
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      const codes = results.flatMap((r) =>
        r && 'errors' in r
          ? (r.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN'))
          : [],
      );
      if (codes.length > 0) {
        span.setAttribute('graphql.error.codes', codes);
        span.setStatus({ code: SpanStatusCode.ERROR, message: codes.join(',') });
      }
    },
    onResponse({ request, response }) {
      const span = spans.get(request);
      if (!span) return;
      spans.delete(request);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    },
  };

  /** A CLIENT span per upstream attempt under `parent`; its context goes upstream as `traceparent`. */
  const attemptsUnder =
    (parent: Span): AttemptObserver =>
    ({ method, route, attempt }) => {
      const parentContext = trace.setSpan(context.active(), parent);
      const span = tracer.startSpan(
        `${method} ${route}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': method,
            'url.template': route,
            ...(attempt > 1 ? { 'http.request.resend_count': attempt - 1 } : {}),
          },
        },
        parentContext,
      );
      const headers: Record<string, string> = {};
      propagator.inject(trace.setSpan(parentContext, span), headers, recordSetter);
      return {
        headers,
        end: (call) => {
          span.setAttribute('http.response.status_code', call.status);
          if (call.errorCode !== undefined) {
            span.setAttribute('error.type', call.errorCode);
            span.setStatus({ code: SpanStatusCode.ERROR, message: call.errorCode });
          }
          span.end();
        },
      };
    };

  const observeUpstream =
    (request: Request): AttemptObserver =>
    (attempt) => {
      const parent = spans.get(request);
      return parent ? attemptsUnder(parent)(attempt) : undefined;
    };

  const observeMirror: MirrorObserver = {
    refresh() {
      // A root span: a refresh runs in the background, under no request.
      const span = tracer.startSpan('mirror refresh', { kind: SpanKind.INTERNAL, root: true });
      return {
        call: { observe: attemptsUnder(span) },
        end(result) {
          span.setAttribute('keeper.mirror.result', result);
          if (result === 'failed') span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        },
      };
    },
  };

  return { plugin, observeUpstream, observeMirror };
}

/**
 * Starts the OpenTelemetry Node SDK (OTLP export configured by the standard OTEL_* variables:
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_SERVICE_NAME,
 * OTEL_TRACES_SAMPLER, …) and returns the service's tracing and a function that flushes and
 * stops it. The SDK is loaded only here, so a process without tracing never pays for it.
 */
export async function startTracing(serviceName: string): Promise<{
  tracing: Tracing;
  shutdown: () => Promise<void>;
}> {
  const { NodeSDK } = await import('@opentelemetry/sdk-node');
  const sdk = new NodeSDK({ serviceName, instrumentations: [] });
  sdk.start();
  return {
    tracing: createTracing(trace.getTracer(serviceName)),
    shutdown: () => sdk.shutdown(),
  };
}
