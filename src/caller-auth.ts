import { createHash, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Plugin } from 'graphql-yoga';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { type NamedKey, SCOPES, type Scope } from './config.ts';

// Caller authentication: the facade holds a token that can lock every user of the node, so when
// it is reachable by more than its own host, callers must prove who they are, and each gets only
// the scopes it was given. Three kinds of callers:
// - named keys (API_KEYS_FILE entries): a name, scopes, and the key's SHA-256 digest;
// - plain keys (API_KEYS, or bare lines of API_KEYS_FILE): every scope, as before scopes existed;
// - SSO tokens: JWTs verified against JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE (jose), with
//   scopes read from the JWT_SCOPES_CLAIM claim.
// Keys are compared as SHA-256 digests with timingSafeEqual against every known digest, so neither
// their length nor which one matched leaks through timing. Open without a key: `/health` and
// `/ready` (for orchestrators), and the GraphiQL page itself when GraphiQL is enabled (it asks for
// the key in its Headers pane). Nothing that can execute an operation passes without a key: not a
// GET that also accepts HTML, nor a GET for the page that carries a query.

/** Who sent a request, and what it may do. */
export type Caller = {
  /** `key`: an API key; `jwt`: an SSO token; `anonymous`: no caller check is configured. */
  kind: 'key' | 'jwt' | 'anonymous';
  /**
   * Stable identity: a key's SHA-256 digest (hex, never the key), `issuer#subject` of a JWT, or
   * `anonymous`. Idempotency keys and rate limits are kept per identity.
   */
  id: string;
  /** For people and the audit trail: the key's name, the JWT subject, or `anonymous`. */
  name: string;
  scopes: ReadonlySet<Scope>;
};

const ALL_SCOPES: ReadonlySet<Scope> = new Set(SCOPES);

const ANONYMOUS: Caller = {
  kind: 'anonymous',
  id: 'anonymous',
  name: 'anonymous',
  scopes: ALL_SCOPES,
};

/** What a request that proved nothing gets, should it ever reach execution: no scope at all. */
export const UNIDENTIFIED: Caller = {
  kind: 'anonymous',
  id: 'unidentified',
  name: 'unidentified',
  scopes: new Set(),
};

export const hasScope = (caller: Caller, scope: Scope) => caller.scopes.has(scope);

/** Query parameters with which a GET asks Yoga to execute something instead of showing a page. */
const OPERATION_PARAMS = ['query', 'extensions', 'operationName', 'variables', 'documentId'];

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** A key's entry for API_KEYS_FILE: what `npm run new-key` prints. */
export const keyFileEntry = (name: string, scopes: readonly Scope[], key: string) =>
  `${name} ${scopes.join(',')} sha256:${sha256(key).toString('hex')}`;

type KnownKey = { digest: Buffer; name: string; scopes: ReadonlySet<Scope> };

export type JwtOptions = {
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** Claim holding the scopes: a space-separated string (OAuth `scope`) or an array. */
  scopesClaim: string;
};

export type CallerAuth = {
  /** The caller a request proves, or undefined when it proves none (remembered per request). */
  identify(request: Request): Promise<Caller | undefined>;
  /**
   * What `identify` found for this request once it has: its caller, or null when it proves none;
   * undefined while it is not known (never asked, or a token still being verified).
   */
  known(request: Request): Caller | null | undefined;
  /** Replaces the keys (API_KEYS_FILE re-read on SIGHUP); requests in flight keep their caller. */
  setKeys(keys: { plain: readonly string[]; named: readonly NamedKey[] }): void;
  /** Yoga plugin refusing, with 401, every request that needs a caller and has no valid one. */
  plugin: Plugin;
};

/**
 * CALLER_RATE_LIMIT's counter: `take` spends one request of `key`'s allowance and returns
 * undefined, or returns the ms until one is free (nothing spent).
 */
export type CallerLimiter = {
  take(key: string): number | undefined | Promise<number | undefined>;
};

export function createCallerAuth(options: {
  /** Plain keys: every scope. */
  keys: readonly string[];
  named?: readonly NamedKey[];
  jwt?: JwtOptions | undefined;
  /** Whether the GraphiQL page is served (it is the only open GET of `endpoint`). */
  graphiql: boolean;
  endpoint: string;
  /** Requests per minute each caller (key or JWT subject) may send (CALLER_RATE_LIMIT). */
  ratePerMinute?: number | undefined;
  /**
   * Counts CALLER_RATE_LIMIT (e.g. on Redis, shared by the replicas).
   * @default in this process, when `ratePerMinute` is set
   */
  limiter?: CallerLimiter | undefined;
  /** Injectable clock for tests. @default performance.now */
  now?: () => number;
}): CallerAuth {
  const limiter =
    options.limiter ??
    (options.ratePerMinute === undefined
      ? undefined
      : createRateLimiter(options.ratePerMinute, options.now ?? (() => performance.now())));
  let known: KnownKey[] = [];
  const setKeys: CallerAuth['setKeys'] = ({ plain, named }) => {
    known = [
      ...plain.map((key) => {
        const digest = sha256(key);
        // Plain keys have no name; the digest's start tells them apart in the audit trail.
        return { digest, name: `key-${digest.toString('hex').slice(0, 8)}`, scopes: ALL_SCOPES };
      }),
      ...named.map((k) => ({
        digest: Buffer.from(k.sha256, 'hex'),
        name: k.name,
        scopes: new Set(k.scopes),
      })),
    ];
  };
  setKeys({ plain: options.keys, named: options.named ?? [] });

  const jwt = options.jwt;
  const jwks = jwt ? createRemoteJWKSet(new URL(jwt.jwksUrl)) : undefined;
  const checking = () => known.length > 0 || jwt !== undefined;

  const matchKey = (presented: Buffer) => {
    let match: KnownKey | undefined;
    // Compare against every key, so the time does not tell which one (if any) matched.
    for (const key of known) if (timingSafeEqual(key.digest, presented)) match ??= key;
    return match;
  };

  const verifyJwt = async (token: string): Promise<Caller | undefined> => {
    if (!jwt || !jwks || token.split('.').length !== 3) return undefined;
    try {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: jwt.issuer,
        audience: jwt.audience,
        requiredClaims: ['sub'],
      });
      const subject = payload.sub as string;
      return {
        kind: 'jwt',
        id: `${payload.iss}#${subject}`,
        name: subject,
        scopes: scopesOf(payload, jwt.scopesClaim),
      };
    } catch {
      // Expired, wrongly signed, another issuer or audience, or the JWKS unreachable: no caller.
      return undefined;
    }
  };

  const identified = new WeakMap<Request, Promise<Caller | undefined>>();
  const settled = new WeakMap<Request, Caller | null>();
  /** The request's caller: at once for a key (or no check), later for a token (JWKS). */
  const find = (request: Request): Caller | undefined | Promise<Caller | undefined> => {
    if (!checking()) return ANONYMOUS;
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '');
    if (!match?.[1]) return undefined;
    const presented = sha256(match[1]);
    const key = matchKey(presented);
    if (key) {
      return { kind: 'key', id: presented.toString('hex'), name: key.name, scopes: key.scopes };
    }
    return verifyJwt(match[1]);
  };
  const identify = (request: Request): Promise<Caller | undefined> => {
    let caller = identified.get(request);
    if (!caller) {
      const found = find(request);
      if (found instanceof Promise) {
        caller = found.then((c) => {
          settled.set(request, c ?? null);
          return c;
        });
      } else {
        settled.set(request, found ?? null);
        caller = Promise.resolve(found);
      }
      identified.set(request, caller);
    }
    return caller;
  };

  const isGraphiQLPage = (request: Request, url: URL) =>
    options.graphiql &&
    request.method === 'GET' &&
    url.pathname.replace(/\/$/, '') === options.endpoint &&
    (request.headers.get('accept') ?? '').includes('text/html') &&
    OPERATION_PARAMS.every((name) => !url.searchParams.has(name));

  type Answer = { endResponse(response: Response): void; fetchAPI: { Response: typeof Response } };

  /** Lets the caller through (nothing returned), or answers 401 or 429. */
  const admit = (caller: Caller | null, answer: Answer): void | Promise<void> => {
    if (!caller) return refuse(answer);
    const wait = limiter?.take(`${caller.kind}:${caller.id}`);
    return wait instanceof Promise
      ? wait.then((ms) => throttle(caller, ms, answer))
      : throttle(caller, wait, answer);
  };

  const throttle = (
    caller: Caller,
    wait: number | undefined,
    { endResponse, fetchAPI }: Answer,
  ) => {
    if (wait === undefined) return;
    const retryAfter = Math.ceil(wait / 1000);
    endResponse(
      new fetchAPI.Response(
        JSON.stringify({
          errors: [
            {
              message: `Too many requests from ${caller.name} (CALLER_RATE_LIMIT); retry in ${retryAfter} s.`,
              extensions: { code: 'RATE_LIMITED', retryAfter },
            },
          ],
        }),
        {
          status: 429,
          headers: { 'content-type': 'application/json', 'retry-after': String(retryAfter) },
        },
      ),
    );
  };

  const refuse = ({ endResponse, fetchAPI }: Answer) => {
    endResponse(
      new fetchAPI.Response(
        JSON.stringify({
          errors: [
            {
              message: `This service needs an API key${jwt ? ' or an SSO token' : ''}: send Authorization: Bearer <${jwt ? 'key or token' : 'key'}>.`,
              extensions: { code: 'UNAUTHENTICATED' },
            },
          ],
        }),
        {
          status: 401,
          headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
        },
      ),
    );
  };

  return {
    identify,
    known: (request) => settled.get(request),
    setKeys,
    plugin: {
      // Synchronous when the caller is known at once (a key, or no check) and the rate limit is
      // counted in this process: no promise per request.
      onRequest(payload) {
        const { request, url } = payload;
        if (url.pathname === '/health' || url.pathname === '/ready') return;
        if (isGraphiQLPage(request, url)) return;
        const identifying = identify(request);
        const caller = settled.get(request);
        if (caller !== undefined) return admit(caller, payload);
        return identifying.then((found) => admit(found ?? null, payload));
      },
    },
  };
}

/**
 * A token bucket per caller: `perMinute` requests, refilled evenly, so a burst of a minute's
 * worth passes and then one request every 60/perMinute s. `take` answers undefined when the
 * request may pass, else the milliseconds until it would. Buckets that are full again are
 * dropped, so memory follows the callers active in the last minute. In this process only.
 */
export function createRateLimiter(
  perMinute: number,
  now: () => number = () => performance.now(),
): CallerLimiter & { take(key: string): number | undefined } {
  const perMs = perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = now();
  return {
    take(key: string): number | undefined {
      const t = now();
      if (t - sweptAt > 60_000) {
        for (const [k, b] of buckets)
          if (b.tokens + (t - b.at) * perMs >= perMinute) buckets.delete(k);
        sweptAt = t;
      }
      const bucket = buckets.get(key) ?? { tokens: perMinute, at: t };
      bucket.tokens = Math.min(perMinute, bucket.tokens + (t - bucket.at) * perMs);
      bucket.at = t;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return undefined;
      }
      return Math.max(1, (1 - bucket.tokens) / perMs);
    },
  };
}

/** Scopes named in a JWT claim (a space-separated string or an array); unknown ones are ignored. */
function scopesOf(payload: JWTPayload, claim: string): ReadonlySet<Scope> {
  const value = payload[claim];
  const names = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  return new Set(SCOPES.filter((scope) => names.includes(scope)));
}
