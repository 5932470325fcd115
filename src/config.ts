import { readFileSync } from 'node:fs';
import { z } from 'zod';

// The only module that reads the environment. `loadConfig` never exits: it
// returns every problem at once, in words a person can act on, and `main.ts` decides what to do.
// The token is never part of a message.

/** Keeper's six data centres (docs/keeper-scim.md §1). */
export const KEEPER_REGIONS = {
  us: 'keepersecurity.com',
  eu: 'keepersecurity.eu',
  au: 'keepersecurity.com.au',
  jp: 'keepersecurity.jp',
  ca: 'keepersecurity.ca',
  gov: 'govcloud.keepersecurity.us',
} as const;
type KeeperRegion = keyof typeof KEEPER_REGIONS;

const emptyAsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema);

const integer = (name: string, min: number, max: number) =>
  emptyAsUnset(
    z.coerce
      .number({ error: `${name} must be a whole number` })
      .int(`${name} must be a whole number`)
      .min(min, `${name} must be at least ${min}`)
      .max(max, `${name} must be at most ${max}`)
      .optional(),
  );

const bool = (name: string) =>
  emptyAsUnset(
    z
      .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], {
        error: `${name} must be true or false`,
      })
      .transform((v) => ['1', 'true', 'yes', 'on'].includes(v))
      .optional(),
  );

const Env = z.object({
  NODE_ENV: emptyAsUnset(z.string().optional()),
  HOST: emptyAsUnset(z.string().optional()),
  PORT: integer('PORT', 0, 65535),
  KEEPER_SCIM_URL: emptyAsUnset(
    z
      .url({
        error:
          'KEEPER_SCIM_URL must be a full URL such as https://keepersecurity.eu/api/rest/scim/v2/123456789',
      })
      .refine(
        (u) => /^https?:\/\//.test(u),
        'KEEPER_SCIM_URL must start with https:// (or http:// for a local upstream)',
      )
      .optional(),
  ),
  KEEPER_REGION: emptyAsUnset(
    z
      .enum(Object.keys(KEEPER_REGIONS) as [KeeperRegion, ...KeeperRegion[]], {
        error: `KEEPER_REGION must be one of ${Object.keys(KEEPER_REGIONS).join(', ')}`,
      })
      .optional(),
  ),
  KEEPER_NODE_ID: emptyAsUnset(
    z.string().regex(/^\d+$/, 'KEEPER_NODE_ID must be the numeric node id').optional(),
  ),
  KEEPER_SCIM_TOKEN: emptyAsUnset(z.string().optional()),
  KEEPER_SCIM_TOKEN_FILE: emptyAsUnset(z.string().optional()),
  KEEPER_ROLE_PREFIX: emptyAsUnset(z.string().optional()),
  KEEPER_FILTER_OR: emptyAsUnset(
    z.enum(['auto', 'on', 'off'], { error: 'KEEPER_FILTER_OR must be auto, on or off' }).optional(),
  ),
  KEEPER_GROUP_MEMBERS: emptyAsUnset(
    z
      .enum(['auto', 'include', 'omit'], {
        error: 'KEEPER_GROUP_MEMBERS must be auto, include or omit',
      })
      .optional(),
  ),
  KEEPER_ID_FORMAT: emptyAsUnset(
    z
      .enum(['auto', 'keeper', 'relaxed'], {
        error: 'KEEPER_ID_FORMAT must be auto, keeper or relaxed',
      })
      .optional(),
  ),
  SCIM_UPSTREAM_KIND: emptyAsUnset(
    z
      .enum(['auto', 'keeper', 'scim'], {
        error: 'SCIM_UPSTREAM_KIND must be auto, keeper or scim',
      })
      .optional(),
  ),
  UPSTREAM_CONNECT_TIMEOUT_MS: integer('UPSTREAM_CONNECT_TIMEOUT_MS', 1, 600_000),
  UPSTREAM_TIMEOUT_MS: integer('UPSTREAM_TIMEOUT_MS', 1, 600_000),
  UPSTREAM_MAX_CONNECTIONS: integer('UPSTREAM_MAX_CONNECTIONS', 1, 1024),
  UPSTREAM_MAX_RETRIES: integer('UPSTREAM_MAX_RETRIES', 0, 10),
  UPSTREAM_PAGE_SIZE: integer('UPSTREAM_PAGE_SIZE', 1, 1000),
  UPSTREAM_SCAN_LIMIT: integer('UPSTREAM_SCAN_LIMIT', 1, 1_000_000),
  REQUEST_TIMEOUT_MS: integer('REQUEST_TIMEOUT_MS', 1, 600_000),
  UPSTREAM_REQUEST_CONCURRENCY: integer('UPSTREAM_REQUEST_CONCURRENCY', 1, 1024),
  GRAPHIQL: bool('GRAPHIQL'),
  API_KEYS: emptyAsUnset(z.string().optional()),
  CORS_ORIGINS: emptyAsUnset(z.string().optional()),
  API_KEYS_FILE: emptyAsUnset(z.string().optional()),
  JWT_JWKS_URL: emptyAsUnset(
    z
      .url({ error: 'JWT_JWKS_URL must be a full URL such as https://login.example.com/jwks' })
      .optional(),
  ),
  JWT_ISSUER: emptyAsUnset(z.string().optional()),
  JWT_AUDIENCE: emptyAsUnset(z.string().optional()),
  JWT_SCOPES_CLAIM: emptyAsUnset(z.string().optional()),
  AUDIT_CAPACITY: integer('AUDIT_CAPACITY', 1, 10_000_000),
  AUDIT_RETENTION: integer('AUDIT_RETENTION', 1, 10 * 365 * 24 * 3600),
  CALLER_RATE_LIMIT: integer('CALLER_RATE_LIMIT', 1, 1_000_000),
  TRUSTED_DOCUMENTS_FILE: emptyAsUnset(z.string().optional()),
  UPSTREAM_STATS: bool('UPSTREAM_STATS'),
  UPSTREAM_STATS_FOR: emptyAsUnset(
    z
      .enum(['everyone', 'keyed', 'nobody'], {
        error: 'UPSTREAM_STATS_FOR must be everyone, keyed or nobody',
      })
      .optional(),
  ),
  GRAPHQL_INTROSPECTION: bool('GRAPHQL_INTROSPECTION'),
  DEMO: bool('DEMO'),
  KEEPER_ALLOW_INSECURE_HTTP: bool('KEEPER_ALLOW_INSECURE_HTTP'),
  IDEMPOTENCY_TTL_SECONDS: integer('IDEMPOTENCY_TTL_SECONDS', 1, 7 * 24 * 3600),
  IDEMPOTENCY_MAX_BYTES: integer('IDEMPOTENCY_MAX_BYTES', 65_536, 64 * 1024 ** 3),
  UPSTREAM_RATE_LIMIT: emptyAsUnset(
    z.coerce
      .number({ error: 'UPSTREAM_RATE_LIMIT must be a number of calls per second' })
      .positive('UPSTREAM_RATE_LIMIT must be above 0 (unset it for no limit)')
      .max(10_000, 'UPSTREAM_RATE_LIMIT must be at most 10000')
      .optional(),
  ),
  REDIS_URL: emptyAsUnset(
    z
      .string()
      .refine(
        (u) => /^(rediss?:\/\/[^\s]+|unix:\/\/\/[^\s]+)$/.test(u) && isUrl(u),
        'REDIS_URL must be redis://[user:password@]host:port[/db], rediss://… (TLS) or unix:///path/to/redis.sock',
      )
      .optional(),
  ),
  REDIS_KEY_PREFIX: emptyAsUnset(
    z
      .string()
      .regex(/^[\x21-\x7e]{1,64}$/, 'REDIS_KEY_PREFIX must be 1 to 64 printable characters')
      .optional(),
  ),
  REDIS_CONNECT_TIMEOUT_MS: integer('REDIS_CONNECT_TIMEOUT_MS', 1, 60_000),
  REDIS_COMMAND_TIMEOUT_MS: integer('REDIS_COMMAND_TIMEOUT_MS', 1, 60_000),
  REDIS_TLS_CA_FILE: emptyAsUnset(z.string().optional()),
  EMULATOR_PORT: integer('EMULATOR_PORT', 0, 65535),
  // The directory mirror (src/directory/mirror).
  MIRROR: emptyAsUnset(z.enum(['on', 'off'], { error: 'MIRROR must be on or off' }).optional()),
  MIRROR_REFRESH_SECONDS: integer('MIRROR_REFRESH_SECONDS', 1, 24 * 3600),
  CHANGES_RETENTION: integer('CHANGES_RETENTION', 1, 10_000_000),
  // Process, logs, metrics and traces.
  SHUTDOWN_GRACE_MS: integer('SHUTDOWN_GRACE_MS', 0, 600_000),
  LOG_LEVEL: emptyAsUnset(
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .optional(),
  ),
  OTEL_SDK_DISABLED: emptyAsUnset(z.string().optional()),
  OTEL_TRACES_EXPORTER: emptyAsUnset(z.string().optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: emptyAsUnset(z.string().optional()),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: emptyAsUnset(z.string().optional()),
  OTEL_SERVICE_NAME: emptyAsUnset(z.string().optional()),
  LOG_FORMAT: emptyAsUnset(
    z.enum(['json', 'pretty'], { error: 'LOG_FORMAT must be json or pretty' }).optional(),
  ),
});

export type Config = {
  /** Where the GraphQL server listens. */
  server: {
    host: string;
    port: number;
    graphiql: boolean;
    production: boolean;
    /** Keys callers must send as `Authorization: Bearer <key>`, with every scope (API_KEYS). */
    apiKeys: string[];
    /** Named keys with scopes, from API_KEYS_FILE (re-read on SIGHUP); digests, never keys. */
    namedKeys: NamedKey[];
    /** API_KEYS_FILE, for reloading. */
    apiKeysFile: string | undefined;
    /** TRUSTED_DOCUMENTS_FILE: the operations callers without `admin` may send, by hash. */
    trustedDocuments: ReadonlyMap<string, string> | undefined;
    /** Requests per minute per caller (key or JWT subject); undefined = no limit. */
    callerRateLimit: number | undefined;
    /** SSO: JWTs verified against this JWKS, issuer and audience; scopes from `scopesClaim`. */
    jwt: { jwksUrl: string; issuer: string; audience: string; scopesClaim: string } | undefined;
    /** Browser origins allowed to call cross-origin (CORS); empty = same origin only. */
    corsOrigins: string[];
    /** Whether `__schema`/`__type` are answered (off in production unless asked for). */
    introspection: boolean;
    /**
     * Who may see `extensions.upstream` (with the header, or always): `keyed` = callers that
     * presented an API key.
     */
    upstreamStatsFor: 'everyone' | 'keyed' | 'nobody';
  };
  /**
   * The SCIM upstream. `undefined` means none is configured and demo data is allowed (DEMO, on by
   * default outside production): `main.ts` then starts the embedded emulator.
   */
  upstream: { baseUrl: string; token: string } | undefined;
  scim: {
    /**
     * Whether the upstream is Keeper (messages then say "Keeper") or another SCIM 2.0 server
     * ("the SCIM upstream"). `auto`: Keeper for Keeper's hosts and the embedded emulator.
     */
    upstreamKind: 'auto' | 'keeper' | 'scim';
    rolePrefix: string;
    /** Whether the upstream accepts `or` in filters: `auto` probes it once at start-up. */
    orFilters: 'auto' | 'on' | 'off';
    /** Whether Group resources carry `members`: `auto` looks at the first Groups answer. */
    groupMembers: 'auto' | 'include' | 'omit';
    /**
     * The shape of upstream ids the facade accepts from callers: `keeper` (user and role ids are
     * digits, team UIDs base64url), `relaxed` (any URL-safe id, e.g. UUIDs of an RFC server), or
     * `auto`: `keeper` when the upstream is Keeper (SCIM_UPSTREAM_KIND), else `relaxed`.
     */
    idFormat: 'auto' | 'keeper' | 'relaxed';
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    maxConnections: number;
    maxRetries: number;
    pageSize: number;
    /** Most users one request may scan when a question cannot be asked upstream. */
    scanLimit: number;
    /** Most upstream calls one GraphQL request has in flight at once (GETs, pages of a scan). */
    requestConcurrency: number;
  };
  /**
   * Deadline of one GraphQL request: every SCIM call it makes (pages and retries included) ends
   * by then, and none starts after it.
   */
  requestTimeoutMs: number;
  /** Return per-request upstream call counts in `extensions.upstream` without being asked. */
  alwaysReportUpstreamStats: boolean;
  idempotencyTtlSeconds: number;
  /** Memory budget of the in-memory idempotency store (IDEMPOTENCY_MAX_BYTES). */
  idempotencyMaxBytes: number;
  /** Most audit events kept in memory for `auditEvents` (the oldest go first). */
  auditCapacity: number;
  /** AUDIT_RETENTION, in seconds: older audit events are dropped. */
  auditRetentionSeconds: number;
  /** Calls per second to the upstream, for all replicas together; `undefined` = no limit. */
  upstreamRateLimit: number | undefined;
  /**
   * Where replicas share state (idempotency keys, group locks, the upstream budget); `undefined`
   * keeps it in this process's memory.
   */
  redis: RedisConfig | undefined;
  /** The directory mirror: one snapshot of the node shared by every request, and its change feed. */
  mirror: {
    /** MIRROR=off keeps the per-request reads. */
    enabled: boolean;
    /** Seconds between background refreshes of the snapshot. */
    refreshSeconds: number;
    /** Changes the change feed keeps (events, in memory or in the Redis Stream). */
    retention: number;
  };
  emulatorPort: number;
  /** How the process runs: shutdown, logs, metrics, traces. */
  process: {
    /** How long in-flight requests may take to finish after SIGTERM; longer than an upstream call. */
    shutdownGraceMs: number;
    logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
    /** `undefined`: pretty on a terminal outside production, else JSON (src/log.ts). */
    logFormat: 'json' | 'pretty' | undefined;
    /**
     * Traces are exported when the standard OTEL_* variables name an exporter or an OTLP
     * endpoint (and OTEL_SDK_DISABLED is not true); the SDK reads the rest of them itself.
     */
    tracing: { enabled: boolean; serviceName: string };
  };
};

export type RedisConfig = {
  /** redis://, rediss:// (TLS) or unix:///path; may hold a password, so never log it whole. */
  url: string;
  /** Put in front of every key and channel, so that deployments can share one Redis. */
  keyPrefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** PEM of the CA to trust for rediss:// (else the system's CAs). */
  tlsCa: string | undefined;
};

/** Where REDIS_URL points, without user or password, for logs and /ready. */
export function describeRedisUrl(url: string): string {
  if (url.startsWith('unix://')) return url;
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`;
}

function isUrl(value: string): boolean {
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type ReadFile = (path: string) => string;

/** The rights a caller can hold; each guards a set of schema fields (README "Access control"). */
export const SCOPES = ['directory:read', 'directory:write', 'users:lifecycle', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** An API_KEYS_FILE entry: who the key belongs to, what it may do, and its SHA-256 digest (hex). */
export type NamedKey = { name: string; scopes: Scope[]; sha256: string };

const MIN_KEY_LENGTH = 16;

const splitKeys = (text: string) => text.split(/[\s,]+/).filter((k) => k !== '');

/**
 * API_KEYS_FILE: one entry per line, `#` starts a comment. A line `<name> <scope,scope> sha256:<hex>`
 * names a key by its digest (`npm run new-key` prints one); any other line holds plain keys with
 * every scope, as in API_KEYS. Returns the problems instead of throwing, so a reload can keep the
 * keys it had.
 */
function parseApiKeysFile(text: string): {
  keys: string[];
  named: NamedKey[];
  problems: string[];
} {
  const keys: string[] = [];
  const named: NamedKey[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const entry = /^(\S+)\s+(\S+)\s+sha256:(\S+)$/.exec(line);
    if (!entry) {
      keys.push(...splitKeys(line));
      return;
    }
    const [, name = '', scopeList = '', hex = ''] = entry;
    const scopes = scopeList.split(',').filter((s) => s !== '');
    const unknown = scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0) {
      problems.push(
        `line ${index + 1}: unknown scope ${unknown.join(', ')} (known: ${SCOPES.join(', ')})`,
      );
    } else if (!/^[0-9a-f]{64}$/i.test(hex)) {
      problems.push(`line ${index + 1}: the digest must be 64 hex digits (sha256:<hex>)`);
    } else if (named.some((k) => k.name === name)) {
      problems.push(`line ${index + 1}: the name ${name} is used twice`);
    } else {
      named.push({ name, scopes: scopes as Scope[], sha256: hex.toLowerCase() });
    }
  });
  return { keys, named, problems };
}

/**
 * Parses the environment. Throws one `ConfigError` listing every problem.
 * @param readFile injectable for tests; reads KEEPER_SCIM_TOKEN_FILE.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  readFile: ReadFile = (p) => readFileSync(p, 'utf8'),
): Config {
  const parsed = Env.safeParse(env);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((i) =>
        i.message.includes(String(i.path[0])) ? i.message : `${String(i.path[0])}: ${i.message}`,
      );
  const e = parsed.success ? parsed.data : ({} as z.infer<typeof Env>);

  let baseUrl: string | undefined;
  if (e.KEEPER_SCIM_URL && (e.KEEPER_REGION || e.KEEPER_NODE_ID)) {
    problems.push('Set either KEEPER_SCIM_URL or KEEPER_REGION with KEEPER_NODE_ID, not both');
  } else if (e.KEEPER_SCIM_URL) {
    baseUrl = e.KEEPER_SCIM_URL.replace(/\/+$/, '');
  } else if (e.KEEPER_REGION && e.KEEPER_NODE_ID) {
    baseUrl = `https://${KEEPER_REGIONS[e.KEEPER_REGION]}/api/rest/scim/v2/${e.KEEPER_NODE_ID}`;
  } else if (e.KEEPER_REGION || e.KEEPER_NODE_ID) {
    problems.push('KEEPER_REGION and KEEPER_NODE_ID must be set together');
  }

  let token: string | undefined;
  if (e.KEEPER_SCIM_TOKEN && e.KEEPER_SCIM_TOKEN_FILE) {
    problems.push('Set either KEEPER_SCIM_TOKEN or KEEPER_SCIM_TOKEN_FILE, not both');
  } else if (e.KEEPER_SCIM_TOKEN) {
    token = e.KEEPER_SCIM_TOKEN.trim();
  } else if (e.KEEPER_SCIM_TOKEN_FILE) {
    try {
      token = readFile(e.KEEPER_SCIM_TOKEN_FILE).trim();
      if (!token) problems.push(`KEEPER_SCIM_TOKEN_FILE (${e.KEEPER_SCIM_TOKEN_FILE}) is empty`);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      problems.push(`KEEPER_SCIM_TOKEN_FILE (${e.KEEPER_SCIM_TOKEN_FILE}) cannot be read: ${code}`);
    }
  }
  if (token !== undefined && /\s/.test(token)) {
    problems.push(
      'The Keeper SCIM token contains white space; copy it again from the Admin Console',
    );
  }
  if (baseUrl && token === undefined && !problems.some((p) => p.includes('TOKEN'))) {
    problems.push(
      'A Keeper upstream is configured but no token: set KEEPER_SCIM_TOKEN or KEEPER_SCIM_TOKEN_FILE',
    );
  }
  if (!baseUrl && token !== undefined && !problems.some((p) => p.includes('KEEPER_'))) {
    problems.push(
      'A Keeper token is set but no upstream: set KEEPER_SCIM_URL, or KEEPER_REGION with KEEPER_NODE_ID',
    );
  }
  const apiKeys = splitKeys(e.API_KEYS ?? '');
  let namedKeys: NamedKey[] = [];
  if (e.API_KEYS_FILE) {
    try {
      const file = parseApiKeysFile(readFile(e.API_KEYS_FILE));
      apiKeys.push(...file.keys);
      namedKeys = file.named;
      problems.push(...file.problems.map((p) => `API_KEYS_FILE (${e.API_KEYS_FILE}): ${p}`));
      if (file.keys.length + file.named.length === 0 && file.problems.length === 0) {
        problems.push(`API_KEYS_FILE (${e.API_KEYS_FILE}) holds no key`);
      }
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      problems.push(`API_KEYS_FILE (${e.API_KEYS_FILE}) cannot be read: ${code}`);
    }
  }
  if (apiKeys.some((k) => k.length < MIN_KEY_LENGTH)) {
    problems.push(`Every API key must have at least ${MIN_KEY_LENGTH} characters`);
  }
  let trustedDocuments: Map<string, string> | undefined;
  if (e.TRUSTED_DOCUMENTS_FILE) {
    const name = `TRUSTED_DOCUMENTS_FILE (${e.TRUSTED_DOCUMENTS_FILE})`;
    try {
      const parsed = z
        .record(z.string(), z.string())
        .safeParse(JSON.parse(readFile(e.TRUSTED_DOCUMENTS_FILE)));
      if (parsed.success) trustedDocuments = new Map(Object.entries(parsed.data));
      else problems.push(`${name} must be a JSON object of { "hash": "document" }`);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'not JSON';
      problems.push(`${name} cannot be read: ${code}`);
    }
  }
  let jwt: Config['server']['jwt'];
  if (e.JWT_JWKS_URL || e.JWT_ISSUER || e.JWT_AUDIENCE) {
    if (!e.JWT_JWKS_URL || !e.JWT_ISSUER || !e.JWT_AUDIENCE) {
      problems.push('JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE must be set together');
    } else {
      jwt = {
        jwksUrl: e.JWT_JWKS_URL,
        issuer: e.JWT_ISSUER,
        audience: e.JWT_AUDIENCE,
        scopesClaim: e.JWT_SCOPES_CLAIM ?? 'scope',
      };
      const jwks = new URL(e.JWT_JWKS_URL);
      if (jwks.protocol !== 'https:' && !isLoopback(jwks.hostname)) {
        // Whoever can change the keys on the way can sign any token.
        problems.push(
          `JWT_JWKS_URL must use https:// (it is ${jwks.protocol}// to ${jwks.hostname})`,
        );
      }
    }
  }
  const corsOrigins = (e.CORS_ORIGINS ?? '')
    .split(/[\s,]+/)
    .filter((o) => o !== '')
    .map((o) => o.replace(/\/+$/, ''));
  for (const origin of corsOrigins) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS: ${origin} is not an origin such as https://portal.example.com`);
    }
  }
  const upstreamTimeoutMs = e.UPSTREAM_TIMEOUT_MS ?? 15_000;
  // The longest a request may run: its own deadline, or one upstream call if that is longer.
  const longestRequestMs = Math.max(e.REQUEST_TIMEOUT_MS ?? 30_000, upstreamTimeoutMs);
  if (e.SHUTDOWN_GRACE_MS !== undefined && e.SHUTDOWN_GRACE_MS <= longestRequestMs) {
    problems.push(
      `SHUTDOWN_GRACE_MS (${e.SHUTDOWN_GRACE_MS}) must be longer than a request may run (REQUEST_TIMEOUT_MS / UPSTREAM_TIMEOUT_MS: ${longestRequestMs}): a shorter grace cuts callers off while their writes may still land`,
    );
  }
  let tlsCa: string | undefined;
  if (e.REDIS_TLS_CA_FILE) {
    if (!e.REDIS_URL?.startsWith('rediss://')) {
      problems.push('REDIS_TLS_CA_FILE is set but REDIS_URL is not a rediss:// (TLS) URL');
    }
    try {
      tlsCa = readFile(e.REDIS_TLS_CA_FILE);
    } catch (error) {
      const code = (error as { code?: string }).code ?? 'unreadable';
      problems.push(`REDIS_TLS_CA_FILE (${e.REDIS_TLS_CA_FILE}) cannot be read: ${code}`);
    }
  }
  if (!e.REDIS_URL) {
    for (const name of [
      'REDIS_KEY_PREFIX',
      'REDIS_CONNECT_TIMEOUT_MS',
      'REDIS_COMMAND_TIMEOUT_MS',
    ] as const) {
      if (e[name] !== undefined) problems.push(`${name} is set but REDIS_URL is not`);
    }
  }
  const production = e.NODE_ENV === 'production';
  problems.push(...productionProblems(e, production, baseUrl, problems.length > 0));
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    server: {
      host: e.HOST ?? '127.0.0.1',
      port: e.PORT ?? 4000,
      graphiql: e.GRAPHIQL ?? !production,
      apiKeys,
      namedKeys,
      apiKeysFile: e.API_KEYS_FILE,
      callerRateLimit: e.CALLER_RATE_LIMIT,
      trustedDocuments,
      jwt,
      corsOrigins,
      production,
      introspection: e.GRAPHQL_INTROSPECTION ?? !production,
      upstreamStatsFor: e.UPSTREAM_STATS_FOR ?? (production ? 'keyed' : 'everyone'),
    },
    upstream: baseUrl && token ? { baseUrl, token } : undefined,
    scim: {
      upstreamKind: e.SCIM_UPSTREAM_KIND ?? 'auto',
      rolePrefix: e.KEEPER_ROLE_PREFIX ?? 'ROLE_',
      orFilters: e.KEEPER_FILTER_OR ?? 'auto',
      groupMembers: e.KEEPER_GROUP_MEMBERS ?? 'auto',
      idFormat: e.KEEPER_ID_FORMAT ?? 'auto',
      connectTimeoutMs: e.UPSTREAM_CONNECT_TIMEOUT_MS ?? 5_000,
      requestTimeoutMs: upstreamTimeoutMs,
      maxConnections: e.UPSTREAM_MAX_CONNECTIONS ?? 16,
      maxRetries: e.UPSTREAM_MAX_RETRIES ?? 2,
      pageSize: e.UPSTREAM_PAGE_SIZE ?? 500,
      scanLimit: e.UPSTREAM_SCAN_LIMIT ?? 20_000,
      requestConcurrency: e.UPSTREAM_REQUEST_CONCURRENCY ?? 64,
    },
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS ?? 30_000,
    alwaysReportUpstreamStats: e.UPSTREAM_STATS ?? !production,
    idempotencyTtlSeconds: e.IDEMPOTENCY_TTL_SECONDS ?? 24 * 3600,
    idempotencyMaxBytes: e.IDEMPOTENCY_MAX_BYTES ?? 64 * 1024 * 1024,
    auditCapacity: e.AUDIT_CAPACITY ?? 10_000,
    auditRetentionSeconds: e.AUDIT_RETENTION ?? 90 * 24 * 3600,
    upstreamRateLimit: e.UPSTREAM_RATE_LIMIT,
    redis: e.REDIS_URL
      ? {
          url: e.REDIS_URL,
          keyPrefix: e.REDIS_KEY_PREFIX ?? 'keeper-scim-graphql:',
          connectTimeoutMs: e.REDIS_CONNECT_TIMEOUT_MS ?? 5_000,
          commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS ?? 2_000,
          tlsCa,
        }
      : undefined,
    mirror: {
      enabled: (e.MIRROR ?? 'on') === 'on',
      refreshSeconds: e.MIRROR_REFRESH_SECONDS ?? 60,
      retention: e.CHANGES_RETENTION ?? 100_000,
    },
    emulatorPort: e.EMULATOR_PORT ?? 0,
    process: {
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS ?? longestRequestMs + 5_000,
      logLevel: e.LOG_LEVEL ?? 'info',
      logFormat: e.LOG_FORMAT,
      tracing: {
        enabled:
          e.OTEL_SDK_DISABLED?.toLowerCase() !== 'true' &&
          (e.OTEL_EXPORTER_OTLP_ENDPOINT !== undefined ||
            e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== undefined ||
            (e.OTEL_TRACES_EXPORTER !== undefined && e.OTEL_TRACES_EXPORTER !== 'none')),
        serviceName: e.OTEL_SERVICE_NAME ?? 'keeper-scim-graphql',
      },
    },
  } as const;
}

/**
 * What only development may do: serve demo data (a real caller would get fake successes and
 * lose its writes on restart) and send the token over clear-text HTTP beyond this host.
 */
function productionProblems(
  e: z.infer<typeof Env>,
  production: boolean,
  baseUrl: string | undefined,
  upstreamProblem: boolean,
): string[] {
  const demo = e.DEMO ?? !production;
  const upstreamGiven = Boolean(e.KEEPER_SCIM_URL || e.KEEPER_REGION || e.KEEPER_NODE_ID);
  if (e.DEMO === true && upstreamGiven) {
    return [
      'DEMO=true serves the embedded emulator: unset it, or unset KEEPER_SCIM_URL / KEEPER_REGION',
    ];
  }
  if (!demo && !upstreamGiven && !upstreamProblem) {
    return [
      `${production ? 'NODE_ENV=production' : 'DEMO=false'} needs a Keeper upstream: set KEEPER_SCIM_URL (or KEEPER_REGION with KEEPER_NODE_ID) and KEEPER_SCIM_TOKEN, or DEMO=true to serve demo data from the embedded emulator (writes are lost on restart)`,
    ];
  }
  if (production && baseUrl && !e.KEEPER_ALLOW_INSECURE_HTTP) {
    const url = new URL(baseUrl);
    if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
      return [
        `KEEPER_SCIM_URL uses http:// to ${url.hostname}: the token would travel in clear text. Use https://, or set KEEPER_ALLOW_INSECURE_HTTP=true`,
      ];
    }
  }
  return [];
}

/** Hosts whose traffic never leaves the machine. */
function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    hostname === '::1' ||
    /^127(\.\d{1,3}){3}$/.test(hostname)
  );
}
