import { performance } from 'node:perf_hooks';
import { type ExecutionResult, type GraphQLError, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Context } from './context.ts';
import type { Logger } from './log.ts';
import { REQUEST_ID_HEADER, requestId } from './request-scope.ts';
import { ScimError } from './scim/errors.ts';

// One access-log line per GraphQL request: who asked what, how it ended, and what it cost
// upstream. Expected failures (upstream 4xx/429/5xx, a caller's mistake) make it a warn line that
// carries the error codes and the upstream's own words (redacted with every other line, see
// log.ts), never a stack; an unexpected error makes it an error line (its stack is logged once,
// by the error masking). Probes of /health and /ready are logged at debug level.

type Entry = {
  started: number;
  path: string;
  ctx?: Context;
  operation?: { name: string | undefined; type: string };
  errors: readonly GraphQLError[];
};

const PROBES = new Set(['/health', '/ready']);

export function useAccessLog(log: Logger): Plugin<Context> {
  const entries = new WeakMap<Request, Entry>();

  return {
    onRequest({ request, url }) {
      entries.set(request, { started: performance.now(), path: url.pathname, errors: [] });
    },
    onExecute({ args }) {
      const ctx = args.contextValue as Context;
      const entry = entries.get(ctx.request);
      if (!entry) return;
      entry.ctx = ctx;
      const operation = getOperationAST(args.document, args.operationName);
      entry.operation = {
        name: operation?.name?.value ?? args.operationName ?? undefined,
        type: operation?.operation ?? 'unknown',
      };
    },
    onResultProcess({ request, result }) {
      const entry = entries.get(request);
      if (!entry) return;
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      entry.errors = results.flatMap((r) => (r && 'errors' in r ? (r.errors ?? []) : []));
    },
    onResponse({ request, response }) {
      const id = requestId(request);
      response.headers.set(REQUEST_ID_HEADER, id);
      const entry = entries.get(request);
      if (!entry) return;
      // Taken out at once: V8's young-generation GC holds a WeakMap's values strongly, and the
      // entry holds the request's context (and through it the request), so an entry left until the
      // request is collected keeps every object of the request alive into the old generation.
      entries.delete(request);
      const { path } = entry;
      const failed = entry.ctx?.stats.calls.filter((c) => c.errorCode !== undefined) ?? [];
      const errors = entry.errors.map(describeError);
      const unexpected = errors.some((e) => e.code === 'INTERNAL_SERVER_ERROR');
      const level =
        unexpected || response.status >= 500
          ? 'error'
          : errors.length > 0 || failed.length > 0 || response.status >= 400
            ? 'warn'
            : PROBES.has(path)
              ? 'debug'
              : 'info';
      // The line is only built when it is written (the bench runs at warn: no line per answer).
      if (!log.isLevelEnabled(level)) return;
      const upstream = entry.ctx?.stats.summary();
      const line = {
        reqId: id,
        method: request.method,
        path,
        status: response.status,
        durationMs: Math.round((performance.now() - entry.started) * 10) / 10,
        ...(entry.operation ? { operation: entry.operation } : {}),
        ...(entry.ctx ? { caller: entry.ctx.caller.id.slice(0, 16) } : {}),
        ...(upstream
          ? {
              upstream: {
                calls: upstream.calls,
                retries: upstream.retries,
                ms: upstream.totalMs,
                ...(failed.length > 0
                  ? {
                      failed: failed.map(
                        (c) => `${c.method} ${c.route} ${c.status} ${c.errorCode} #${c.attempt}`,
                      ),
                    }
                  : {}),
              },
            }
          : {}),
        ...(errors.length > 0 ? { errors } : {}),
      };
      log[level](line, `${request.method} ${path} ${response.status}`);
    },
  };
}

/** Code, message and, for upstream failures, what the upstream said: never a stack. */
function describeError(error: GraphQLError) {
  const code = String(error.extensions?.code ?? 'UNKNOWN');
  const original = error.originalError;
  return {
    code,
    ...(code === 'INTERNAL_SERVER_ERROR' ? {} : { message: error.message }),
    ...(error.path ? { path: error.path.join('.') } : {}),
    ...(original instanceof ScimError
      ? {
          upstream: {
            request: `${original.method} ${original.path}`,
            status: original.status,
            ...(original.scimType ? { scimType: original.scimType } : {}),
            ...(original.detail ? { detail: original.detail } : {}),
          },
        }
      : {}),
  };
}
