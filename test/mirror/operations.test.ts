import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/metrics.ts';
import { createTracing } from '../../src/tracing.ts';
import { LockUserDocument } from '../generated/graphql.ts';
import { type Stack, startStack } from '../helpers.ts';
import { userGid } from '../mutations/helpers.ts';

// Running the mirror (MIRROR=on) on the real app: /ready waits for the first snapshot and shows a
// later failed refresh without turning unready; /metrics shows the snapshot's age and size, the
// refreshes by result and the change-feed events by source; each refresh is one trace span whose
// upstream attempts are its children.

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

type ReadyBody = {
  ready: boolean;
  checks: Record<string, boolean>;
  mirror: {
    reason?: string;
    asOf: string | null;
    refreshing: boolean;
    lastError: { message: string; at: string } | null;
  };
};

async function ready(s: Stack) {
  const response = await s.app.fetch('http://facade.test/ready');
  return { status: response.status, body: (await response.json()) as ReadyBody };
}

/** Makes the next full reads' Groups listings fail (every attempt, retries included). */
const failGroupsReads = (s: Stack) =>
  s.emulator.faults.enqueue({ method: 'GET', path: '/Groups', fault: 500, times: 20 });

async function scrape(s: Stack): Promise<Map<string, number>> {
  const response = await s.app.fetch('http://facade.test/metrics');
  expect(response.status).toBe(200);
  const samples = new Map<string, number>();
  for (const line of (await response.text()).split('\n')) {
    const match = /^(\w+(?:\{.*\})?) (\S+)$/.exec(line);
    if (match) samples.set(match[1] as string, Number(match[2]));
  }
  return samples;
}

describe('directory mirror: readiness', () => {
  it('answers 503 until the first snapshot exists, then 200; a later failed refresh stays ready and shows', async () => {
    stack = await startStack({ env: { MIRROR: 'on' } });
    const mirror = stack.mirror;
    if (!mirror) throw new Error('MIRROR=on builds a mirror');

    // No snapshot yet: not ready, and the body says why.
    let answer = await ready(stack);
    expect(answer.status).toBe(503);
    expect(answer.body.ready).toBe(false);
    expect(answer.body.checks).toEqual({ upstream: true, mirror: false });
    expect(answer.body.mirror.reason).toMatch(/no snapshot yet: its first full read .* under way/);
    expect(answer.body.mirror.asOf).toBeNull();

    // The first read fails: still not ready, with the failure.
    failGroupsReads(stack);
    expect((await mirror.refresh()).ok).toBe(false);
    answer = await ready(stack);
    expect(answer.status).toBe(503);
    expect(answer.body.mirror.reason).toMatch(/first full read of the node failed/);
    expect(answer.body.mirror.lastError?.message).toBeTruthy();
    stack.emulator.faults.clear();

    // The first snapshot: ready.
    expect((await mirror.refresh()).ok).toBe(true);
    answer = await ready(stack);
    expect(answer.status).toBe(200);
    expect(answer.body.checks).toEqual({ upstream: true, mirror: true });
    expect(answer.body.mirror.reason).toBeUndefined();
    const asOf = answer.body.mirror.asOf;
    expect(asOf).toBe(mirror.current()?.asOf.toISOString());
    expect(answer.body.mirror.lastError).toBeNull();

    // A later refresh fails: the old snapshot still serves, so still ready, and the failure shows.
    failGroupsReads(stack);
    expect((await mirror.refresh()).ok).toBe(false);
    answer = await ready(stack);
    expect(answer.status).toBe(200);
    expect(answer.body.ready).toBe(true);
    expect(answer.body.mirror.asOf).toBe(asOf);
    expect(answer.body.mirror.lastError?.message).toBeTruthy();
    expect(JSON.stringify(answer.body)).not.toContain(stack.emulator.token);
  });

  it('has no mirror condition with MIRROR=off', async () => {
    stack = await startStack({ env: { MIRROR: 'off' } });
    const answer = await ready(stack);
    expect(answer.status).toBe(200);
    expect(answer.body.checks).toEqual({ upstream: true });
    expect(answer.body.mirror).toBeUndefined();
  });
});

describe('directory mirror: metrics, logs and traces', () => {
  it('scrapes the snapshot age and size, refreshes by result and changes by source; one warn line per failed refresh; a span per refresh', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const warnings = () => lines.filter((l) => l.level === 40).map((l) => l.msg);
    stack = await startStack({
      env: { MIRROR: 'on' },
      probe: false,
      app: { metrics, tracing: createTracing(provider.getTracer('test')), log },
    });
    const mirror = stack.mirror;
    if (!mirror) throw new Error('MIRROR=on builds a mirror');

    // Before the first snapshot: no age, no size.
    let samples = await scrape(stack);
    expect(samples.get('keeper_mirror_snapshot_age_seconds')).toBeNaN();
    expect(samples.has('keeper_mirror_snapshot_objects{kind="users"}')).toBe(false);

    // The first refresh.
    stack.resetLog();
    expect((await mirror.refresh()).ok).toBe(true);
    const firstReadCalls = stack.upstreamCalls().length;
    samples = await scrape(stack);
    const store = stack.emulator.store;
    expect(samples.get('keeper_mirror_refreshes_total{result="ok"}')).toBe(1);
    expect(samples.get('keeper_mirror_refresh_duration_seconds_count{result="ok"}')).toBe(1);
    expect(samples.get('keeper_mirror_snapshot_objects{kind="users"}')).toBe(store.userCount);
    expect(samples.get('keeper_mirror_snapshot_objects{kind="groups"}')).toBe(
      mirror.current()?.groups.size,
    );
    const age = samples.get('keeper_mirror_snapshot_age_seconds') as number;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);

    // A change upstream, seen by the next refresh: one UPSTREAM event.
    store.createUser({ userName: 'metrics-upstream@example.com', active: true });
    expect(await mirror.refresh()).toMatchObject({ ok: true, changes: 1 });
    // A write of this service: THIS_SERVICE events, at once.
    const user = store.listUsers().find((u) => u.active);
    const locked = await stack.run(LockUserDocument, { input: { id: userGid(user?.id ?? '') } });
    expect(locked.errors).toBeUndefined();
    // A failed refresh.
    failGroupsReads(stack);
    expect((await mirror.refresh()).ok).toBe(false);
    stack.emulator.faults.clear();

    samples = await scrape(stack);
    expect(samples.get('keeper_mirror_refreshes_total{result="ok"}')).toBe(2);
    expect(samples.get('keeper_mirror_refreshes_total{result="failed"}')).toBe(1);
    expect(samples.get('keeper_mirror_refresh_duration_seconds_count{result="failed"}')).toBe(1);
    expect(samples.get('keeper_mirror_changes_appended_total{source="UPSTREAM"}')).toBe(1);
    const own = mirror
      .changesAfter(undefined, 100)
      .then((page) => page.events.filter((e) => e.source.kind === 'THIS_SERVICE'));
    expect(samples.get('keeper_mirror_changes_appended_total{source="THIS_SERVICE"}')).toBe(
      (await own).length,
    );
    expect((await own).length).toBeGreaterThan(0);
    expect(samples.get('keeper_mirror_snapshot_objects{kind="users"}')).toBe(store.userCount);

    // One warn line for the failed refresh, without the token.
    const failedLines = warnings().filter((m) => m.startsWith('mirror refresh failed'));
    expect(failedLines).toHaveLength(1);
    expect(failedLines[0]).toMatch(/^mirror refresh failed \(.*\); the mirror keeps its snapshot$/);
    expect(JSON.stringify(lines)).not.toContain(stack.emulator.token);

    // A root span per refresh; the first refresh's upstream attempts are its children.
    const spans = exporter.getFinishedSpans();
    const refreshes = spans.filter((s) => s.name === 'mirror refresh');
    expect(refreshes.map((s) => s.attributes['keeper.mirror.result'])).toEqual([
      'ok',
      'ok',
      'failed',
    ]);
    expect(refreshes.every((s) => s.kind === SpanKind.INTERNAL && !s.parentSpanContext)).toBe(true);
    expect(refreshes[2]?.status.code).toBe(SpanStatusCode.ERROR);
    const first = refreshes[0];
    const children = spans.filter(
      (s) => s.parentSpanContext?.spanId === first?.spanContext().spanId,
    );
    expect(children).toHaveLength(firstReadCalls);
    expect(children.every((s) => s.kind === SpanKind.CLIENT)).toBe(true);
  });
});
