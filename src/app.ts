import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import {
  type ASTVisitor,
  type DocumentNode,
  GraphQLError,
  getNamedType,
  getOperationAST,
  isIntrospectionType,
  type ValidationContext,
} from 'graphql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useAccessLog } from './access-log.ts';
import { type Audit, type AuditStore, useUnauthenticatedAudit } from './audit.ts';
import { useRequestBodyLimit } from './body-limit.ts';
import { type CallerAuth, hasScope, UNIDENTIFIED } from './caller-auth.ts';
import type { Config } from './config.ts';
import { type Context, createContext } from './context.ts';
import type { Mirror } from './directory/mirror/mirror.ts';
import { useStableErrorCodes } from './error-codes.ts';
import { maskError } from './errors.ts';
import { compiledExecution } from './execution.ts';
import { EXAMPLE_OPERATIONS } from './graphiql.ts';
import type { IdempotencyStore } from './idempotency.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { GroupLocks } from './locks.ts';
import { type Logger, silentLogger } from './log.ts';
import type { Metrics } from './metrics.ts';
import { REQUEST_ID_HEADER, requestId } from './request-scope.ts';
import { executionFinished, schema } from './schema/index.ts';
import { documentSelects } from './schema/selection.ts';
import type { AttemptObserver, ScimClient } from './scim/client.ts';
import type { Tracing } from './tracing.ts';
import type { UpstreamInfo } from './upstream.ts';

export type AppDeps = {
  config: Config;
  scim: ScimClient;
  upstream: UpstreamInfo;
  /** Where mutations remember idempotency keys (SharedState: in memory, or on Redis). */
  idempotency: IdempotencyStore;
  /** Who callers are and what they may do (built by service.ts from the configuration). */
  callerAuth: CallerAuth;
  /**
   * The audit trail's store (SharedState), and its sink.
   * @default sink: each event logged at info as `audit`
   */
  audit: { store: AuditStore; sink?: Audit['sink'] };
  /** Per-group write locks (SharedState: in this process, or on Redis). */
  locks: GroupLocks;
  /**
   * More conditions of `/ready` besides the upstream (e.g. the shared state store); each one
   * that fails turns it to 503, and the body names them all.
   * @default none
   */
  readiness?: ReadinessCheck[];
  /**
   * The service's logger: the access log (one line per request), unexpected errors, Yoga's own
   * messages (at debug level). @default silent
   */
  log?: Logger;
  /** Where unexpected (masked) errors are reported. @default `log.error` with the stack */
  logError?: (error: unknown) => void;
  /** Yoga's own messages, to `log` at debug level. @default true */
  logging?: boolean;
  /**
   * Prometheus metrics: request metrics, and `/metrics` (behind the API keys when they are set).
   * @default none, and no /metrics
   */
  metrics?: Metrics;
  /** OpenTelemetry: a span per request and per upstream attempt. @default no tracing */
  tracing?: Tracing;
  /** Shutdown state: `/ready` answers 503 once it is draining. @default never draining */
  lifecycle?: Lifecycle;
  /**
   * The directory mirror (src/directory/mirror), built and started by `main.ts` when MIRROR=on.
   * @default none: `directory` is null and the change feed is refused
   */
  mirror?: Mirror | undefined;
};

/** One named condition of `/ready`. */
type ReadinessCheck = { name: string; check: () => Promise<boolean> };

export type App = YogaServerInstance<Record<string, never>, Context>;

/** Header with which a caller asks for `extensions.upstream` (always on outside production). */
const UPSTREAM_STATS_HEADER = 'x-upstream-stats';

/** Header a request without a JSON body (GET, form posts) must send; see useCSRFPrevention. */
const CSRF_HEADER = 'x-graphql-csrf';

/**
 * Builds the GraphQL server from its dependencies. It never listens: `main.ts` does, and tests
 * call `app.fetch`.
 */
export function createApp(deps: AppDeps): App {
  const { config, idempotency, locks } = deps;
  const log = deps.log ?? silentLogger;
  const { tracing } = deps;
  const observeUpstream = (request: Request): AttemptObserver => {
    const withId = upstreamHeaders(request);
    return tracing ? combine(withId, tracing.observeUpstream(request)) : withId;
  };
  const logError =
    deps.logError ?? ((error: unknown) => log.error({ err: error }, 'unexpected error'));
  const graphqlEndpoint = '/graphql';
  const audit: Audit = {
    store: deps.audit.store,
    sink: deps.audit.sink ?? ((event) => log.info({ audit: event }, 'audit')),
  };
  const auth = deps.callerAuth;
  const contextDeps = { ...deps, idempotency, locks, observeUpstream, audit };

  return createYoga<Record<string, never>, Context>({
    schema,
    graphqlEndpoint,
    landingPage: false,
    // Limited by useRequestBodyLimit below, at the same 25 MB without counting bodies that say
    // their length (src/body-limit.ts).
    maxRequestBodySize: false,
    // Yoga reports each masked error itself; errors.ts and the access log already have, so its
    // messages go to debug.
    logging: deps.logging === false ? false : yogaLogger(log),
    // The auth plugin has refused every request without a valid caller by now (when callers are
    // checked); the request's caller was identified there once and is remembered, so the context
    // is built at once (no promise) when it is known.
    context: ({ request }) => {
      const known = auth.known(request);
      return known !== undefined
        ? createContext(contextDeps, request, known ?? UNIDENTIFIED)
        : auth
            .identify(request)
            .then((caller) => createContext(contextDeps, request, caller ?? UNIDENTIFIED));
    },
    // The bundled GraphiQL: Yoga's default page loads its scripts from a CDN, which a machine
    // without internet access (or a locked-down network) cannot reach.
    renderGraphiQL,
    graphiql: config.server.graphiql
      ? {
          title: 'Keeper SCIM GraphQL',
          defaultQuery: EXAMPLE_OPERATIONS,
          headers: '{"x-upstream-stats": "1"}',
        }
      : false,
    // Browsers may call cross-origin only from CORS_ORIGINS (Yoga's default reflects any origin,
    // which would let any web page an employee opens drive this service's Keeper token).
    cors:
      config.server.corsOrigins.length > 0
        ? { origin: config.server.corsOrigins, methods: ['GET', 'POST'], credentials: false }
        : false,
    maskedErrors: { maskError: (error) => maskError(error, logError, deps.upstream.name) },
    // Production keeps the schema's shape to itself: no field suggestions in validation errors.
    plugins: [
      ...(deps.tracing ? [deps.tracing.plugin] : []),
      useAccessLog(log),
      // Every error of every answer gets a stable extensions.code (src/error-codes.ts).
      useStableErrorCodes(CSRF_HEADER),
      // 401s are audited too, as the `unauthenticated` caller.
      useUnauthenticatedAudit(audit, requestId),
      auth.plugin,
      // Trusted documents: callers without `admin` send only known operations, by hash
      // (`extensions.persistedQuery.sha256Hash` or `documentId`); any text is refused before parse.
      config.server.trustedDocuments !== undefined &&
        useTrustedDocuments(config.server.trustedDocuments, auth),
      // After the caller check: with API_KEYS set, /metrics needs a key like GraphQL does.
      ...(deps.metrics ? [deps.metrics.plugin] : []),
      // A cross-site HTML form can POST application/x-www-form-urlencoded without a CORS
      // preflight, and Yoga executes it: such "simple" requests must carry this header.
      useCSRFPrevention({ requestHeaders: [CSRF_HEADER] }),
      EnvelopArmorPlugin({
        // Depth and cost are limited by the schema's complexity plugin, which knows page sizes
        // (src/schema/complexity.ts); armor guards what is decided at parse time.
        maxDepth: { enabled: false },
        costLimit: { enabled: false },
        // The canonical queries use a handful; hundreds would multiply upstream work.
        maxAliases: { n: 30 },
        maxTokens: { n: 5_000 },
        blockFieldSuggestion: { enabled: config.server.production },
      }),
      // Selective reads, compiled queries (graphql-jit, src/execution.ts), and the result's
      // extensions.upstream and extensions.directory.
      useExecution(config.alwaysReportUpstreamStats, config.server.upstreamStatsFor),
      !config.server.introspection && useNoIntrospection(),
      // `/health` (built in) says the process serves; `/ready` that Keeper answers its token.
      useReadiness('/ready', () =>
        // Shutting down: say so at once, without asking any dependency.
        deps.lifecycle?.draining
          ? Response.json({ ready: false, shuttingDown: true }, { status: 503 })
          : readinessResponse(
              [
                { name: 'upstream', check: () => deps.upstream.isReachable() },
                // MIRROR=on: not ready until the first snapshot exists (requests would wait
                // for the full read); a later failed refresh keeps it ready (the old snapshot
                // serves) and shows under `mirror`.
                ...(deps.mirror
                  ? [{ name: 'mirror', check: async () => deps.mirror?.current() !== undefined }]
                  : []),
                ...(deps.readiness ?? []),
              ],
              deps.mirror && { mirror: mirrorReadiness(deps.mirror) },
            ),
      ),
      // Last, so that it wraps whichever request parser the plugins above chose.
      useRequestBodyLimit(),
    ],
  });
}

/**
 * The service's work around each execution, in one hook (each plugin's hook costs the envelop
 * orchestrator its own bookkeeping per request): `readsBySelection`, then the compiled query when
 * there is one, then, once it has run, `extensions.upstream` (when shown) and
 * `extensions.directory` (when the mirror answered), in that order.
 */
function useExecution(
  alwaysStats: boolean,
  statsShownTo: Config['server']['upstreamStatsFor'],
): Plugin<Context> {
  const compiled = compiledExecution();
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const ctx = args.contextValue as Context;
      readsBySelection(ctx.directory, args);
      const run = compiled(args, executeFn);
      if (run) setExecuteFn(run as typeof executeFn);
      const stats = showsUpstreamStats(ctx, alwaysStats, statsShownTo);
      return {
        onExecuteDone({ result, setResult }) {
          if (!result || Symbol.asyncIterator in result) return;
          executionFinished(ctx);
          // The oldest snapshot a list of this request was answered from (recorded by the directory).
          const asOf = ctx.directory.mirrorAsOf();
          if (!stats && !asOf) return;
          let { extensions } = result;
          if (stats) {
            // The batch strategies chosen (src/directory/reads/users.ts) show why the calls are
            // what they are.
            extensions = {
              ...extensions,
              upstream: { ...ctx.stats.summary(), batches: ctx.directory.decisions },
            };
          }
          if (asOf) extensions = { ...extensions, directory: { asOf: isoString(asOf) } };
          setResult({ ...result, extensions });
        },
      };
    },
  };
}

/** The ISO form of a date, made once per date object (a snapshot's `asOf` serves many answers). */
const isoStrings = new WeakMap<Date, string>();
function isoString(date: Date): string {
  let iso = isoStrings.get(date);
  if (iso === undefined) {
    iso = date.toISOString();
    isoStrings.set(date, iso);
  }
  return iso;
}

/**
 * Tells the request's directory, before any resolver runs, whether the operation selects a field
 * that needs memberships (`Team.members`, `Role.members`): then the one Groups read carries
 * members; otherwise it leaves them out. And whether it must read fresh: a query with `@fresh`,
 * or a mutation (its payload reads what was written), answers no list from the mirror.
 */
function readsBySelection(
  directory: Context['directory'],
  args: { document: DocumentNode; operationName?: string | null | undefined },
): void {
  if (documentSelects(args.document, 'members')) directory.expectMembership();
  const operation = getOperationAST(args.document, args.operationName);
  if (
    operation &&
    (operation.operation !== 'query' || operation.directives?.some((d) => d.name.value === 'fresh'))
  ) {
    directory.readFresh();
  }
}

/**
 * Answers `endpoint` with `check`'s response (a check that throws: 503 with its message, as Yoga's
 * useReadinessCheck does). In place of Yoga's useReadinessCheck, which on every request also tests
 * the URL against a URLPattern (a polyfill on Node 20) and whether the whole URL, query string
 * included, ends with the endpoint: here the path alone decides, the same path the caller check
 * leaves open (src/caller-auth.ts).
 */
function useReadiness(endpoint: string, check: () => Response | Promise<Response>): Plugin {
  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      return Promise.resolve()
        .then(check)
        .then(endResponse, (error: unknown) =>
          endResponse(
            error instanceof Error
              ? new fetchAPI.Response(error.message, {
                  status: 503,
                  headers: { 'content-type': 'text/plain; charset=utf-8' },
                })
              : new fetchAPI.Response(null, { status: 503 }),
          ),
        );
    },
  };
}

/**
 * Runs every check at once: 200 when all pass, else 503, with `{ "ready": …, "checks": { name:
 * true|false } }` so an operator sees which dependency is missing. A check that throws fails.
 */
async function readinessResponse(
  checks: ReadinessCheck[],
  details?: Record<string, unknown>,
): Promise<Response> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => [name, await check().catch(() => false)] as const),
  );
  const ready = results.every(([, ok]) => ok);
  return Response.json(
    { ready, checks: Object.fromEntries(results), ...details },
    { status: ready ? 200 : 503 },
  );
}

/** The mirror's part of `/ready`: why it is not ready yet, how old it is, its last failure. */
function mirrorReadiness(mirror: Mirror) {
  const status = mirror.status();
  const failed = status.lastError
    ? { message: status.lastError.message, at: status.lastError.at.toISOString() }
    : null;
  return {
    ...(status.asOf
      ? {}
      : {
          reason: failed
            ? 'the directory mirror has no snapshot yet: its first full read of the node failed, and the next refresh tries again'
            : 'the directory mirror has no snapshot yet: its first full read of the node is under way',
        }),
    asOf: status.asOf?.toISOString() ?? null,
    refreshing: status.refreshing,
    lastError: failed,
  };
}

function useTrustedDocuments(documents: ReadonlyMap<string, string>, auth: CallerAuth) {
  return usePersistedOperations({
    getPersistedOperation: (key) => documents.get(key) ?? null,
    allowArbitraryOperations: async (request) =>
      hasScope((await auth.identify(request)) ?? UNIDENTIFIED, 'admin'),
    customErrors: {
      persistedQueryOnly: {
        message:
          'This service runs only its trusted documents for this caller: send the operation by hash (extensions.persistedQuery.sha256Hash or documentId).',
        extensions: { code: 'TRUSTED_DOCUMENT_REQUIRED', http: { status: 400 } },
      },
      notFound: {
        message: 'No trusted document has this hash.',
        extensions: { code: 'TRUSTED_DOCUMENT_NOT_FOUND', http: { status: 400 } },
      },
    },
  });
}

/**
 * Refuses `__schema` and `__type` (GRAPHQL_INTROSPECTION off): graphql-js's
 * NoSchemaIntrospectionCustomRule, with a stable `extensions.code`.
 */
function useNoIntrospection(): Plugin {
  const rule = (context: ValidationContext): ASTVisitor => ({
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) {
        context.reportError(
          new GraphQLError(
            `Introspection is turned off on this service; "${node.name.value}" cannot be queried.`,
            { nodes: node, extensions: { code: 'INTROSPECTION_DISABLED' } },
          ),
        );
      }
    },
  });
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(rule);
    },
  };
}

/**
 * Whether the result gets `extensions.upstream` (calls by method and route, retries, time, and the
 * strategy of each user lookup batch): when the request sends `x-upstream-stats: 1`, or always when
 * configured (development default), for the callers UPSTREAM_STATS_FOR allows: they show the shape
 * of the node and how long its calls take.
 */
function showsUpstreamStats(
  ctx: Context,
  always: boolean,
  shownTo: Config['server']['upstreamStatsFor'],
): boolean {
  // Upstream routes and timings describe the node: for callers with the `admin` scope only,
  // and of those for the ones UPSTREAM_STATS_FOR allows (`keyed`: a key or an SSO token).
  if (!hasScope(ctx.caller, 'admin')) return false;
  if (shownTo === 'nobody' || (shownTo === 'keyed' && ctx.caller.kind === 'anonymous'))
    return false;
  const asked = ctx.request.headers.get(UPSTREAM_STATS_HEADER);
  return always || asked === '1' || asked === 'true';
}

/**
 * Yoga's logger interface, onto the service's logger at debug level. Yoga logs a few debug lines
 * per request: nothing is built for a level that is off.
 */
function yogaLogger(log: Logger) {
  const at =
    (level: 'debug' | 'warn') =>
    (...args: unknown[]) => {
      if (!log.isLevelEnabled(level)) return;
      log[level]({ yoga: args.map((a) => (a instanceof Error ? a.message : a)) }, 'yoga');
    };
  return { debug: at('debug'), info: at('debug'), warn: at('warn'), error: at('debug') };
}

/** Every SCIM call of a request carries its id, so upstream logs can be matched to ours. */
const upstreamHeaders =
  (request: Request): AttemptObserver =>
  () => ({ headers: { [REQUEST_ID_HEADER]: requestId(request) } });

/** Both observers watch each attempt; their headers are merged. */
function combine(a: AttemptObserver, b: AttemptObserver): AttemptObserver {
  return (start) => {
    const first = a(start);
    const second = b(start);
    return {
      headers: { ...first?.headers, ...second?.headers },
      end: (call) => {
        first?.end?.(call);
        second?.end?.(call);
      },
    };
  };
}
