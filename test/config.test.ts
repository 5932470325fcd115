import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.ts';
import { problems } from './config-problems.ts';

const TOKEN = 'k3eperT0kenDoNotLeak_abcdefghijklmnopqrstuv';

describe('config', () => {
  it('defaults to the embedded emulator on port 4000 with GraphiQL', () => {
    const config = loadConfig({});
    expect(config.upstream).toBeUndefined();
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 4000,
      graphiql: true,
      production: false,
      apiKeys: [],
      namedKeys: [],
      corsOrigins: [],
      introspection: true,
      upstreamStatsFor: 'everyone',
    });
    expect(config.scim.rolePrefix).toBe('ROLE_');
    expect(config.scim.orFilters).toBe('auto');
  });

  it('builds the base URL from a region and node id', () => {
    const config = loadConfig({
      KEEPER_REGION: 'eu',
      KEEPER_NODE_ID: '123456789',
      KEEPER_SCIM_TOKEN: TOKEN,
    });
    expect(config.upstream).toEqual({
      baseUrl: 'https://keepersecurity.eu/api/rest/scim/v2/123456789',
      token: TOKEN,
    });
    expect(
      loadConfig({ KEEPER_REGION: 'gov', KEEPER_NODE_ID: '1', KEEPER_SCIM_TOKEN: TOKEN }).upstream
        ?.baseUrl,
    ).toBe('https://govcloud.keepersecurity.us/api/rest/scim/v2/1');
  });

  it('takes a full URL, trimming a trailing slash, and reads the token from a file', () => {
    const config = loadConfig(
      {
        KEEPER_SCIM_URL: 'https://keepersecurity.com/api/rest/scim/v2/42/',
        KEEPER_SCIM_TOKEN_FILE: '/run/secrets/keeper',
      },
      (path) => (path === '/run/secrets/keeper' ? `${TOKEN}\n` : ''),
    );
    expect(config.upstream).toEqual({
      baseUrl: 'https://keepersecurity.com/api/rest/scim/v2/42',
      token: TOKEN,
    });
  });

  it('reports every problem at once, in words a person can act on, without the token', () => {
    const found = problems({
      PORT: 'eighty',
      KEEPER_REGION: 'mars',
      KEEPER_SCIM_TOKEN: TOKEN,
      UPSTREAM_TIMEOUT_MS: '-5',
      KEEPER_FILTER_OR: 'maybe',
    });
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('PORT must be a whole number'),
        expect.stringContaining('KEEPER_REGION must be one of us, eu, au, jp, ca, gov'),
        expect.stringContaining('UPSTREAM_TIMEOUT_MS must be at least 1'),
        expect.stringContaining('KEEPER_FILTER_OR must be auto, on or off'),
      ]),
    );
    expect(found.join('\n')).not.toContain(TOKEN);
  });

  it('refuses half-configured upstreams', () => {
    expect(problems({ KEEPER_SCIM_URL: 'https://keepersecurity.com/api/rest/scim/v2/1' })).toEqual([
      'A Keeper upstream is configured but no token: set KEEPER_SCIM_TOKEN or KEEPER_SCIM_TOKEN_FILE',
    ]);
    expect(problems({ KEEPER_REGION: 'us' })).toEqual([
      'KEEPER_REGION and KEEPER_NODE_ID must be set together',
    ]);
    expect(problems({ KEEPER_SCIM_TOKEN: TOKEN })).toEqual([
      'A Keeper token is set but no upstream: set KEEPER_SCIM_URL, or KEEPER_REGION with KEEPER_NODE_ID',
    ]);
    expect(
      problems({
        KEEPER_SCIM_URL: 'https://x.example/api/rest/scim/v2/1',
        KEEPER_SCIM_TOKEN: TOKEN,
        KEEPER_SCIM_TOKEN_FILE: '/x',
      }),
    ).toEqual(['Set either KEEPER_SCIM_TOKEN or KEEPER_SCIM_TOKEN_FILE, not both']);
  });

  it('says which token file cannot be read', () => {
    const found = problems(
      {
        KEEPER_SCIM_URL: 'https://x.example/api/rest/scim/v2/1',
        KEEPER_SCIM_TOKEN_FILE: '/missing',
      },
      () => {
        throw Object.assign(new Error('nope'), { code: 'ENOENT' });
      },
    );
    expect(found).toEqual(['KEEPER_SCIM_TOKEN_FILE (/missing) cannot be read: ENOENT']);
  });

  it('treats empty variables as unset and turns GraphiQL off in production', () => {
    const config = loadConfig({
      PORT: '',
      NODE_ENV: 'production',
      KEEPER_ROLE_PREFIX: '',
      KEEPER_SCIM_URL: 'https://keepersecurity.com/api/rest/scim/v2/1',
      KEEPER_SCIM_TOKEN: TOKEN,
    });
    expect(config.server.port).toBe(4000);
    expect(config.server.graphiql).toBe(false);
    expect(config.alwaysReportUpstreamStats).toBe(false);
    expect(config.scim.rolePrefix).toBe('ROLE_');
  });
});

describe('config: API keys', () => {
  it('reads keys from API_KEYS or a file, and refuses short ones', () => {
    expect(loadConfig({ API_KEYS: 'aaaaaaaaaaaaaaaa, bbbbbbbbbbbbbbbb' }).server.apiKeys).toEqual([
      'aaaaaaaaaaaaaaaa',
      'bbbbbbbbbbbbbbbb',
    ]);
    expect(
      loadConfig({ API_KEYS_FILE: '/keys' }, () => 'cccccccccccccccc\ndddddddddddddddd\n').server
        .apiKeys,
    ).toEqual(['cccccccccccccccc', 'dddddddddddddddd']);
    expect(loadConfig({}).server.apiKeys).toEqual([]);
    expect(() => loadConfig({ API_KEYS: 'short' })).toThrow(
      'Every API key must have at least 16 characters',
    );
  });
});

describe('config: CORS origins', () => {
  it('takes origins and refuses anything that is not one', () => {
    expect(
      loadConfig({ CORS_ORIGINS: 'https://portal.acme.example/, http://localhost:3000' }).server
        .corsOrigins,
    ).toEqual(['https://portal.acme.example', 'http://localhost:3000']);
    expect(() => loadConfig({ CORS_ORIGINS: 'portal.acme.example' })).toThrow(
      'CORS_ORIGINS: portal.acme.example is not an origin such as https://portal.example.com',
    );
  });
});

describe('config: production refuses what is only safe in development', () => {
  const upstream = {
    KEEPER_SCIM_URL: 'https://keepersecurity.com/api/rest/scim/v2/1',
    KEEPER_SCIM_TOKEN: TOKEN,
  };

  it('needs an upstream, or DEMO=true for the demo emulator', () => {
    expect(problems({ NODE_ENV: 'production' })).toEqual([
      'NODE_ENV=production needs a Keeper upstream: set KEEPER_SCIM_URL (or KEEPER_REGION with KEEPER_NODE_ID) and KEEPER_SCIM_TOKEN, or DEMO=true to serve demo data from the embedded emulator (writes are lost on restart)',
    ]);
    expect(loadConfig({ NODE_ENV: 'production', DEMO: 'true' }).upstream).toBeUndefined();
    expect(loadConfig({ NODE_ENV: 'production', ...upstream }).upstream?.baseUrl).toBe(
      upstream.KEEPER_SCIM_URL,
    );
    // Outside production the demo is the default; DEMO=false asks for the production rule.
    expect(loadConfig({}).upstream).toBeUndefined();
    expect(problems({ DEMO: 'false' })[0]).toContain('KEEPER_SCIM_URL');
    expect(problems({ DEMO: 'true', ...upstream })).toEqual([
      'DEMO=true serves the embedded emulator: unset it, or unset KEEPER_SCIM_URL / KEEPER_REGION',
    ]);
  });

  it('refuses a clear-text upstream beyond loopback unless KEEPER_ALLOW_INSECURE_HTTP=true', () => {
    const http = { KEEPER_SCIM_URL: 'http://scim.acme.example/scim/v2', KEEPER_SCIM_TOKEN: TOKEN };
    expect(problems({ NODE_ENV: 'production', ...http })).toEqual([
      'KEEPER_SCIM_URL uses http:// to scim.acme.example: the token would travel in clear text. Use https://, or set KEEPER_ALLOW_INSECURE_HTTP=true',
    ]);
    expect(
      loadConfig({ NODE_ENV: 'production', KEEPER_ALLOW_INSECURE_HTTP: 'true', ...http }).upstream
        ?.baseUrl,
    ).toBe(http.KEEPER_SCIM_URL);
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.53']) {
      expect(
        problems({ NODE_ENV: 'production', ...http, KEEPER_SCIM_URL: `http://${host}:8787/v2` }),
      ).toEqual([]);
    }
    // Outside production (a compose file with an emulator service) it is allowed.
    expect(problems(http)).toEqual([]);
  });

  it('turns introspection off in production unless GRAPHQL_INTROSPECTION=true', () => {
    expect(loadConfig({}).server.introspection).toBe(true);
    expect(loadConfig({ NODE_ENV: 'production', ...upstream }).server.introspection).toBe(false);
    expect(
      loadConfig({ NODE_ENV: 'production', GRAPHQL_INTROSPECTION: 'true', ...upstream }).server
        .introspection,
    ).toBe(true);
  });

  it('shows upstream stats to keyed callers only in production, unless UPSTREAM_STATS_FOR says', () => {
    expect(loadConfig({}).server.upstreamStatsFor).toBe('everyone');
    expect(loadConfig({ NODE_ENV: 'production', ...upstream }).server.upstreamStatsFor).toBe(
      'keyed',
    );
    expect(loadConfig({ UPSTREAM_STATS_FOR: 'nobody' }).server.upstreamStatsFor).toBe('nobody');
    expect(problems({ UPSTREAM_STATS_FOR: 'admins' })).toEqual([
      'UPSTREAM_STATS_FOR must be everyone, keyed or nobody',
    ]);
  });
});

// Settings of the process itself: shutdown, logs, metrics, traces.

describe('process configuration', () => {
  it('gives in-flight requests longer than a request may run to finish after SIGTERM', () => {
    expect(loadConfig({}).process.shutdownGraceMs).toBe(35_000);
    expect(loadConfig({ REQUEST_TIMEOUT_MS: '10000' }).process.shutdownGraceMs).toBe(20_000);
    expect(loadConfig({ UPSTREAM_TIMEOUT_MS: '40000' }).process.shutdownGraceMs).toBe(45_000);
    expect(loadConfig({ SHUTDOWN_GRACE_MS: '31000' }).process.shutdownGraceMs).toBe(31_000);
  });

  it('refuses a grace period the request deadline does not fit in', () => {
    expect(problems({ SHUTDOWN_GRACE_MS: '30000' })).toEqual([
      'SHUTDOWN_GRACE_MS (30000) must be longer than a request may run (REQUEST_TIMEOUT_MS / UPSTREAM_TIMEOUT_MS: 30000): a shorter grace cuts callers off while their writes may still land',
    ]);
    expect(problems({ SHUTDOWN_GRACE_MS: 'soon' })).toEqual([
      'SHUTDOWN_GRACE_MS must be a whole number',
    ]);
  });
});

describe('tracing configuration', () => {
  it('is off unless the standard OTEL_* variables ask for an exporter', () => {
    expect(loadConfig({}).process.tracing).toEqual({
      enabled: false,
      serviceName: 'keeper-scim-graphql',
    });
    const on = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(loadConfig(on).process.tracing.enabled).toBe(true);
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).process.tracing
        .enabled,
    ).toBe(true);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'console' }).process.tracing.enabled).toBe(true);
    expect(loadConfig({ OTEL_TRACES_EXPORTER: 'none' }).process.tracing.enabled).toBe(false);
    expect(loadConfig({ ...on, OTEL_SDK_DISABLED: 'true' }).process.tracing.enabled).toBe(false);
    expect(loadConfig({ ...on, OTEL_SERVICE_NAME: 'scim-gw' }).process.tracing.serviceName).toBe(
      'scim-gw',
    );
  });
});
