import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import * as discovery from './discovery.ts';
import { EmulatorError, errorBody, notFound } from './errors.ts';
import type { FaultController, FaultKind } from './faults.ts';
import {
  compileFilter,
  type FilterProfile,
  type FilterTarget,
  STRICT_CASE_EXACT,
} from './filter.ts';
import type { RequestLog } from './log.ts';
import { patchGroup, patchUser } from './patch.ts';
import {
  type Projection,
  parseGroupBody,
  parseProjection,
  parseUserBody,
  project,
  projectionKeeps,
  renderGroup,
  renderUser,
  type ScimUserJson,
} from './resources.ts';
import type { EmulatorStore } from './store.ts';
import { SCHEMA_LIST } from './urns.ts';

// node:http front of the emulator: Keeper's URL layout (docs/keeper-scim.md §1), bearer auth, content
// types, paging, faults and the request log. Resource semantics live in store.ts and patch.ts.

export const BASE_PREFIX = '/api/rest/scim/v2/';
const CONTENT_TYPE = 'application/scim+json; charset=utf-8';
const DEFAULT_COUNT = 100;

export type ServerContext = {
  store: EmulatorStore;
  log: RequestLog;
  faults: FaultController;
  token: string;
  profile: FilterProfile;
  groupMembers: 'include' | 'omit';
  latencyMs: number;
  paging: PagingQuirks;
};

/**
 * Paging behaviours a SCIM server may have and the facade must survive (docs/design.md "The upstream,
 * as the facade must treat it"); all off by default.
 */
export type PagingQuirks = {
  /** `itemsPerPage` echoes the requested count, not the number returned. */
  echoCount?: boolean;
  /** A `startIndex` past the end answers the first page again. */
  wrapPastEnd?: boolean;
  /** The most resources one page holds, whatever `count` asks (below the usual 1000). */
  maxCount?: number;
};

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

export type EmulatorServer = {
  server: Server;
  close(): Promise<void>;
};

export function startServer(ctx: ServerContext): EmulatorServer {
  let closing: Promise<void> | undefined;
  // Requests waiting out injected latency are woken by close(), so no timer outlives the server.
  const wakers = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || closing) return resolve();
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });

  const server = createServer((req, res) => {
    handle(ctx, req, res, sleep, () => closing !== undefined).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        send(res, { status: 500, body: errorBody(500, `Emulator failure: ${String(error)}`) });
      }
    });
  });

  return {
    server,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        for (const wake of [...wakers]) wake();
        // Hung requests and keep-alive sockets would otherwise hold the server open forever.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

async function handle(
  ctx: ServerContext,
  req: IncomingMessage,
  res: ServerResponse,
  sleep: (ms: number) => Promise<void>,
  isClosing: () => boolean,
): Promise<void> {
  const started = performance.now();
  ctx.log.received();
  const method = (req.method ?? 'GET').toUpperCase();
  const url = new URL(req.url ?? '/', 'http://emulator.invalid');

  const inBase = url.pathname.startsWith(BASE_PREFIX);
  const afterPrefix = inBase ? url.pathname.slice(BASE_PREFIX.length) : '';
  const slash = afterPrefix.indexOf('/');
  const nodeSegment = slash === -1 ? afterPrefix : afterPrefix.slice(0, slash);
  const relative = slash === -1 ? '' : afterPrefix.slice(slash);
  const logPath =
    (inBase && nodeSegment === ctx.store.nodeId ? relative : url.pathname) + url.search;

  const record = (
    status: number,
    extra: { outcome?: 'reset' | 'hang'; fault?: FaultKind; appliedStatus?: number } = {},
  ) => {
    ctx.log.record({
      method,
      path: logPath,
      status,
      outcome: extra.outcome ?? 'answered',
      ...(extra.fault === undefined ? {} : { fault: extra.fault }),
      ...(extra.appliedStatus === undefined ? {} : { appliedStatus: extra.appliedStatus }),
      durationMs: extra.outcome === 'hang' ? 0 : performance.now() - started,
      receivedAt: performance.timeOrigin + started,
    });
  };
  const answer = (a: Answer) => {
    record(a.status);
    send(res, a);
  };

  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch {
    // The client went away mid-body; nothing was applied.
    record(0, { outcome: 'reset' });
    return;
  }
  await sleep(ctx.latencyMs + ctx.faults.latencyMs);
  if (isClosing()) {
    record(0, { outcome: 'reset' });
    res.destroy();
    return;
  }

  if (!inBase || nodeSegment === '') {
    return answer(fail(404, `Not a Keeper SCIM URL; expected ${BASE_PREFIX}<node_id>/...`));
  }
  // Keeper binds each token to one node (docs/keeper-scim.md §7 "Token per node"), so another node id
  // in the URL is an authentication failure, not a missing resource.
  if (nodeSegment !== ctx.store.nodeId) {
    return answer(
      fail(
        401,
        `The SCIM token is not valid for node ${nodeSegment}; this endpoint serves node ${ctx.store.nodeId}`,
      ),
    );
  }
  const auth = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
  if (!match || match[1] !== ctx.token) {
    return answer(
      fail(401, match ? 'Invalid SCIM token' : 'Missing "Authorization: Bearer <token>" header'),
    );
  }

  // Faults are drawn only for authenticated requests: a wrong-token test never consumes a
  // scripted fault, and the random sequence depends only on the requests that reach the node.
  const decision = ctx.faults.decide(method, relative);
  if (decision) {
    const { fault } = decision;
    if (fault === 'hang') {
      record(0, { outcome: 'hang', fault });
      return;
    }
    if (fault === 'reset-before-apply') {
      record(0, { outcome: 'reset', fault });
      reset(res);
      return;
    }
    if (fault === 429 || fault === 500 || fault === 503) {
      const a = fail(fault, fault === 429 ? 'Too many requests' : 'Injected upstream failure');
      if (fault !== 500) a.headers = { 'retry-after': String(decision.retryAfterSeconds) };
      record(a.status, { fault });
      send(res, a);
      return;
    }
  }

  let result: Answer;
  try {
    result = route(ctx, method, relative, url.searchParams, req.headers['content-type'], raw);
  } catch (error) {
    // An emulator bug still gets an RFC-shaped answer and a log entry, so a test sees it.
    result =
      error instanceof EmulatorError
        ? { status: error.status, body: error.toBody() }
        : fail(500, `Emulator failure: ${String(error)}`);
  }

  if (decision?.fault === 'reset-after-apply') {
    // The write is committed above; the client just never hears about it.
    record(0, { outcome: 'reset', fault: decision.fault, appliedStatus: result.status });
    reset(res);
    return;
  }
  answer(result);
}

function route(
  ctx: ServerContext,
  method: string,
  relative: string,
  query: URLSearchParams,
  contentType: string | undefined,
  raw: Buffer,
): Answer {
  // Segments are percent-decoded so `/Schemas/urn%3Aietf…` and `/Schemas/urn:ietf…` are one URL.
  const path = relative.length > 1 && relative.endsWith('/') ? relative.slice(0, -1) : relative;
  const parts = path.split('/').slice(1).map(decodeSegment);
  const [collection, id, extra] = parts;
  const body = () => parseJson(method, contentType, raw);
  const { store } = ctx;

  // Not offered by Keeper (docs/keeper-scim.md §1: /Bulk, /.search, /Me undocumented).
  if (
    collection === 'Bulk' ||
    collection === '.search' ||
    collection === 'Me' ||
    id === '.search'
  ) {
    return fail(501, `${path} is not supported by Keeper SCIM`);
  }
  if (extra !== undefined) return fail(404, `Unknown path ${path}`);

  switch (collection) {
    case 'ServiceProviderConfig':
      if (id !== undefined) return fail(404, `Unknown path ${path}`);
      return onlyGet(method, () => ok(discovery.serviceProviderConfig(ctx.profile)));
    case 'ResourceTypes':
      return onlyGet(method, () => {
        if (id === undefined) return ok(discovery.resourceTypes());
        const type = discovery.resourceType(id);
        return type ? ok(type) : fail(404, `Unknown resource type ${id}`);
      });
    case 'Schemas':
      return onlyGet(method, () => {
        if (id === undefined) return ok(discovery.schemas());
        const doc = discovery.schema(id);
        return doc ? ok(doc) : fail(404, `Unknown schema ${id}`);
      });
    case 'Users':
      if (id === undefined) {
        if (method === 'GET') return listUsers(ctx, query);
        if (method === 'POST') {
          const user = store.createUser(parseUserBody(body(), store.rfcStrict));
          return { status: 201, body: renderUser(store, user) };
        }
        return notAllowed(method, 'GET, POST');
      }
      switch (method) {
        case 'GET':
          return ok(project(renderUser(store, store.requireUser(id)), parseProjection(query)));
        case 'PUT':
          return ok(renderUser(store, replaceUser(store, id, body())));
        case 'PATCH':
          return patched(store, () => renderUser(store, patchUser(store, id, body())));
        case 'DELETE':
          // Keeper locks instead of deleting (docs/keeper-scim.md §7 "Lock via active"); the user stays
          // listed with active:false, unlike RFC 7644 §3.6, which a strict server follows.
          if (store.rfcStrict) store.deleteUser(id);
          else store.setActive(id, false);
          return { status: 204 };
        default:
          return notAllowed(method, 'GET, PUT, PATCH, DELETE');
      }
    case 'Groups':
      if (id === undefined) {
        if (method === 'GET') return listGroups(ctx, query);
        if (method === 'POST') {
          const input = parseGroupBody(body(), store.rfcStrict);
          const group = store.createGroup(input, input.members);
          return { status: 201, body: renderGroup(store, group, ctx.groupMembers === 'include') };
        }
        return notAllowed(method, 'GET, POST');
      }
      switch (method) {
        case 'GET': {
          const projection = parseProjection(query);
          const withMembers = includeMembers(ctx, projection);
          return ok(project(renderGroup(store, store.requireGroup(id), withMembers), projection));
        }
        case 'PUT':
          return ok(
            renderGroup(store, replaceGroup(store, id, body()), ctx.groupMembers === 'include'),
          );
        case 'PATCH':
          return patched(store, () =>
            renderGroup(store, patchGroup(store, id, body()), ctx.groupMembers === 'include'),
          );
        case 'DELETE':
          store.deleteGroup(id);
          return { status: 204 };
        default:
          return notAllowed(method, 'GET, PUT, PATCH, DELETE');
      }
    default:
      return fail(404, `Unknown path ${path || '/'}`);
  }
}

/**
 * PUT replaces every writable attribute (RFC 7644 §3.5.1): omitted name/externalId/title are
 * cleared and displayName falls back to userName. Two deliberate exceptions (docs/keeper-scim.md §9.9):
 * an omitted `active` keeps the lock state, so a PUT that forgets it never locks anyone; and
 * memberships change only when the body carries `groups`, which then becomes the exact set.
 */
function replaceUser(store: EmulatorStore, id: string, body: unknown) {
  const current = store.requireUser(id);
  const input = parseUserBody(body, store.rfcStrict);
  const { groups, groupsGiven, activeGiven, ...fields } = input;
  return store.commitUser(
    id,
    { ...fields, active: activeGiven ? (input.active ?? true) : current.active },
    groupsGiven ? (groups ?? []) : undefined,
  );
}

/** Undocumented for Keeper (docs/keeper-scim.md §1); served as an RFC full replace. */
function replaceGroup(store: EmulatorStore, id: string, body: unknown) {
  store.requireGroup(id);
  const input = parseGroupBody(body, store.rfcStrict);
  if (input.id !== undefined && input.id !== id) {
    throw new EmulatorError(400, 'id is read-only', 'mutability');
  }
  const fields = {
    displayName: input.displayName,
    ...(input.externalId ? { externalId: input.externalId } : {}),
  };
  return store.commitGroup(id, fields, input.members);
}

function includeMembers(ctx: ServerContext, projection: Projection): boolean {
  return ctx.groupMembers === 'include' && projectionKeeps(projection, 'members');
}

function listUsers(ctx: ServerContext, query: URLSearchParams): Answer {
  const projection = parseProjection(query);
  const matches = compile(ctx, query, 'User');
  if (!matches) {
    // Unfiltered: render only the page asked for.
    const { store } = ctx;
    const source: PageSource<ScimUserJson> = {
      total: store.userCount,
      slice: (from, to) => store.usersSlice(from, to).map((u) => renderUser(store, u)),
    };
    return page(source, query, projection, ctx.paging);
  }
  const all = ctx.store.listUsers().map((u) => renderUser(ctx.store, u));
  return page(all.filter(matches), query, projection, ctx.paging);
}

function listGroups(ctx: ServerContext, query: URLSearchParams): Answer {
  const projection = parseProjection(query);
  const matches = compile(ctx, query, 'Group');
  const withMembers = includeMembers(ctx, projection);
  const all = ctx.store.listGroups();
  // Filters see members even when the answer will not carry them.
  const selected = matches ? all.filter((g) => matches(renderGroup(ctx.store, g, true))) : all;
  const rendered = selected.map((g) => renderGroup(ctx.store, g, withMembers));
  return page(rendered, query, projection, ctx.paging);
}

function compile(ctx: ServerContext, query: URLSearchParams, target: FilterTarget) {
  // URLSearchParams already decodes both `+` (Keeper's docs) and `%20` (IdPs) to spaces.
  const filter = query.get('filter');
  if (filter === null || filter.trim() === '') return undefined;
  return ctx.store.rfcStrict
    ? compileFilter(filter.trim(), ctx.profile, target, STRICT_CASE_EXACT)
    : compileFilter(filter.trim(), ctx.profile, target);
}

/** RFC 7644 §3.5.2: a PATCH may answer 200 with the resource or 204; a strict server sends 204. */
function patched(store: EmulatorStore, apply: () => unknown): Answer {
  const resource = apply();
  return store.rfcStrict ? { status: 204 } : ok(resource);
}

/**
 * RFC 7644 §3.4.2.4 paging: 1-based startIndex (values < 1 mean 1), count defaults to 100 and is
 * capped at 1000 (docs/keeper-scim.md §4), a negative count means 0, and count=0 returns only
 * totalResults. itemsPerPage is the number actually returned (docs/keeper-scim.md §2.4).
 */
type PageSource<T> = { total: number; slice(from: number, to: number): T[] };

function page<T extends object>(
  list: T[] | PageSource<T>,
  query: URLSearchParams,
  projection: Projection,
  quirks: PagingQuirks,
): Answer {
  const all: PageSource<T> = Array.isArray(list)
    ? { total: list.length, slice: (from, to) => list.slice(from, to) }
    : list;
  const startParam = Number.parseInt(query.get('startIndex') ?? '', 10);
  const countParam = Number.parseInt(query.get('count') ?? '', 10);
  let startIndex = Number.isNaN(startParam) || startParam < 1 ? 1 : startParam;
  const requested = Number.isNaN(countParam)
    ? DEFAULT_COUNT
    : Math.min(Math.max(countParam, 0), discovery.MAX_RESULTS);
  const count = Math.min(requested, quirks.maxCount ?? discovery.MAX_RESULTS);
  if (quirks.wrapPastEnd && startIndex > all.total) startIndex = 1;
  const slice = all
    .slice(startIndex - 1, startIndex - 1 + count)
    .map((r) => project(r, projection));
  return ok({
    schemas: [SCHEMA_LIST],
    totalResults: all.total,
    startIndex,
    itemsPerPage: quirks.echoCount ? requested : slice.length,
    Resources: slice,
  });
}

// ---- HTTP plumbing -------------------------------------------------------------------------------

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Keeper's own clients send `application/json` or no Content-Type at all, Entra sends
 * `application/json` (docs/keeper-scim.md §1 "Headers"): all are accepted with scim+json.
 */
function parseJson(method: string, contentType: string | undefined, raw: Buffer): unknown {
  // Anything else (notably fetch's default `text/plain` for string bodies) is refused rather
  // than guessed at, so a client that forgets the header finds out here and not against Keeper.
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type && type !== 'application/scim+json' && type !== 'application/json') {
    throw new EmulatorError(
      415,
      `Unsupported Content-Type ${type}; send application/scim+json or application/json`,
    );
  }
  const text = raw.toString('utf8');
  if (text.trim() === '') {
    throw new EmulatorError(400, `${method} needs a JSON body`, 'invalidSyntax');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new EmulatorError(400, `Invalid JSON: ${(error as Error).message}`, 'invalidSyntax');
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw notFound(`Invalid path segment ${segment}`);
  }
}

const ok = (body: unknown): Answer => ({ status: 200, body });

function fail(status: number, detail: string): Answer {
  return { status, body: errorBody(status, detail) };
}

function onlyGet(method: string, answer: () => Answer): Answer {
  return method === 'GET' ? answer() : notAllowed(method, 'GET');
}

// RFC 7644 names no status for a wrong method on a known endpoint; 405 with Allow says what exists.
function notAllowed(method: string, allow: string): Answer {
  return {
    status: 405,
    body: errorBody(405, `${method} is not allowed here; allowed: ${allow}`),
    headers: { allow },
  };
}

// Keeper's own response Content-Type is unknown; RFC 7644 §3.1 says scim+json, and Keeper's Go
// client only checks for an `application/` prefix (docs/keeper-scim.md §1).
function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...answer.headers };
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers).end();
    return;
  }
  const payload = JSON.stringify(answer.body);
  headers['content-type'] = CONTENT_TYPE;
  headers['content-length'] = String(Buffer.byteLength(payload));
  res.writeHead(answer.status, headers).end(payload);
}

/** A TCP RST where the platform allows it (ECONNRESET on the client), else a plain close. */
function reset(res: ServerResponse): void {
  const socket = res.socket ?? res.req.socket;
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}
