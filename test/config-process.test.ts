import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';

// Settings of the process itself: shutdown, logs, metrics, traces.

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

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
