import { performance } from 'node:perf_hooks';
import type { ExecutionResult } from 'graphql';
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Mirror, MirrorObserver } from './directory/mirror/mirror.ts';
import type { AttemptObserver, ScimClient } from './scim/client.ts';

// Prometheus metrics, served at /metrics on the GraphQL port (behind the same API keys as GraphQL
// when they are set). GraphQL requests by operation and outcome, errors by code, and every SCIM
// attempt upstream (retries and 429s included) by method, route template and status, with the
// number in flight and the pool's queue. Labels are bounded: routes are templates, statuses are
// numbers, and operation names beyond a fixed number of distinct ones count as "other".

const METRICS_PATH = '/metrics';

/** Distinct operation names kept as label values; callers choose them, so they are capped. */
const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export type Metrics = {
  registry: Registry;
  /** Client-wide observer of SCIM attempts (pass to createScimClient's `observe`). */
  observeUpstream: AttemptObserver;
  /** Reads the client's pool at scrape time. */
  watchPool(scim: Pick<ScimClient, 'poolStats'>, maxConnections: number): void;
  /** Watches the directory mirror's refreshes and appended changes (createMirror's `observers`). */
  observeMirror: MirrorObserver;
  /** Reads the mirror's snapshot (age, size) at scrape time. */
  watchMirror(mirror: Pick<Mirror, 'current'>): void;
  /** Yoga plugin: request metrics, and the /metrics endpoint. */
  plugin: Plugin;
};

export function createMetrics(options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'keeper_graphql_request_duration_seconds',
    help: 'GraphQL requests, by operation name and type and outcome (ok, failed: expected errors, error: unexpected).',
    labelNames: ['operation', 'type', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'keeper_graphql_errors_total',
    help: 'Errors in GraphQL answers, by extensions.code.',
    labelNames: ['code'],
    registers: [registry],
  });
  const upstreamSeconds = new Histogram({
    name: 'keeper_upstream_request_seconds',
    help: 'Every HTTP attempt to the SCIM upstream (retries included), by method, route template and status (0: no answer).',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'keeper_upstream_retries_total',
    help: 'SCIM attempts that were retries of an earlier attempt.',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  const upstreamRateLimited = new Counter({
    name: 'keeper_upstream_rate_limited_total',
    help: 'SCIM attempts the upstream answered with 429.',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'keeper_upstream_in_flight',
    help: 'SCIM attempts sent and not yet answered.',
    registers: [registry],
  });

  const names = new Set<string>();
  const operationLabel = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (names.has(name)) return name;
    if (names.size >= MAX_OPERATION_NAMES) return 'other';
    names.add(name);
    return name;
  };

  const observeUpstream: AttemptObserver = ({ method, route, attempt }) => {
    inFlight.inc();
    if (attempt > 1) upstreamRetries.inc({ method, route });
    return {
      end: (call) => {
        inFlight.dec();
        upstreamSeconds.observe(
          { method, route, status: String(call.status) },
          call.durationMs / 1000,
        );
        if (call.status === 429) upstreamRateLimited.inc({ method, route });
      },
    };
  };

  const watchPool: Metrics['watchPool'] = (scim, maxConnections) => {
    const stats = () => scim.poolStats();
    new Gauge({
      name: 'keeper_upstream_pool_connections',
      help: 'Connections to the upstream: max (UPSTREAM_MAX_CONNECTIONS), open, busy.',
      labelNames: ['state'],
      registers: [registry],
      collect() {
        const s = stats();
        this.set({ state: 'max' }, maxConnections);
        if (s) {
          this.set({ state: 'open' }, s.connected);
          this.set({ state: 'busy' }, s.connected - s.free);
        }
      },
    });
    new Gauge({
      name: 'keeper_upstream_pool_queued',
      help: 'SCIM requests waiting for a free connection (the pool is saturated when above 0).',
      registers: [registry],
      collect() {
        this.set(stats()?.queued ?? 0);
      },
    });
  };

  const mirrorRefreshSeconds = new Histogram({
    name: 'keeper_mirror_refresh_duration_seconds',
    help: 'Refreshes of the directory mirror (full reads of the node, or following the lease holder), by result.',
    labelNames: ['result'],
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const mirrorRefreshes = new Counter({
    name: 'keeper_mirror_refreshes_total',
    help: 'Refreshes of the directory mirror by result: ok, failed (the old snapshot still serves), skipped (another replica holds the lease).',
    labelNames: ['result'],
    registers: [registry],
  });
  const mirrorChanges = new Counter({
    name: 'keeper_mirror_changes_appended_total',
    help: 'Change-feed events this replica appended, by source: UPSTREAM (seen by a refresh) or THIS_SERVICE (its own writes).',
    labelNames: ['source'],
    registers: [registry],
  });
  const observeMirror: MirrorObserver = {
    refresh: () => ({
      end: (result, seconds) => {
        mirrorRefreshes.inc({ result });
        mirrorRefreshSeconds.observe({ result }, seconds);
      },
    }),
    appended: (changes) => {
      for (const change of changes) mirrorChanges.inc({ source: change.source.kind });
    },
  };
  const watchMirror: Metrics['watchMirror'] = (mirror) => {
    new Gauge({
      name: 'keeper_mirror_snapshot_age_seconds',
      help: 'Age of the directory mirror snapshot: seconds since the upstream read behind it started (NaN before the first).',
      registers: [registry],
      collect() {
        const asOf = mirror.current()?.asOf;
        this.set(asOf ? Math.max(0, (Date.now() - asOf.getTime()) / 1000) : Number.NaN);
      },
    });
    new Gauge({
      name: 'keeper_mirror_snapshot_objects',
      help: 'Objects in the directory mirror snapshot, by kind: users, groups (teams and roles).',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        const snapshot = mirror.current();
        if (!snapshot) return;
        this.set({ kind: 'users' }, snapshot.users.size);
        this.set({ kind: 'groups' }, snapshot.groups.size);
      },
    });
  };

  type Entry = { started: number; operation: string; type: string };
  const entries = new WeakMap<Request, Entry>();

  const plugin: Plugin = {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname === METRICS_PATH && request.method === 'GET') {
        return registry
          .metrics()
          .then((text) =>
            endResponse(
              new fetchAPI.Response(text, { headers: { 'content-type': registry.contentType } }),
            ),
          );
      }
      entries.set(request, { started: performance.now(), operation: 'none', type: 'none' });
      return undefined;
    },
    onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const entry = request && entries.get(request);
      if (!entry) return;
      const operation = getOperationAST(args.document, args.operationName);
      entry.operation = operationLabel(operation?.name?.value);
      entry.type = operation?.operation ?? 'unknown';
    },
    onResultProcess({ request, result }) {
      const entry = entries.get(request);
      if (!entry) return;
      entries.delete(request);
      const results = (Array.isArray(result) ? result : [result]) as ExecutionResult[];
      const codes = results.flatMap((r) =>
        r && 'errors' in r
          ? (r.errors ?? []).map((e) => String(e.extensions?.code ?? 'UNKNOWN'))
          : [],
      );
      for (const code of codes) errors.inc({ code });
      const outcome = codes.includes('INTERNAL_SERVER_ERROR')
        ? 'error'
        : codes.length > 0
          ? 'failed'
          : 'ok';
      requestDuration.observe(
        { operation: entry.operation, type: entry.type, outcome },
        (performance.now() - entry.started) / 1000,
      );
    },
  };

  return { registry, observeUpstream, watchPool, observeMirror, watchMirror, plugin };
}
