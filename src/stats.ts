import { performance } from 'node:perf_hooks';
import type { UpstreamCall } from './scim/client.ts';

export type UpstreamStatsSummary = {
  /** HTTP attempts sent upstream, retries included. */
  calls: number;
  /** Of those, how many were retries of an earlier attempt. */
  retries: number;
  /** Sum of the attempts' durations (they may overlap). */
  totalMs: number;
  /**
   * Dependent rounds: the longest chain of attempts in which each one started after the one
   * before it had ended. Calls sent together count once, however many they are.
   */
  rounds: number;
  /** Per `METHOD /route/template`: attempts and summed duration. */
  byRoute: Record<string, { calls: number; ms: number }>;
};

/** Collects the upstream calls of one GraphQL request (docs/design.md "What is measured"). */
export class UpstreamStats {
  readonly calls: UpstreamCall[] = [];
  /** Start and end of each attempt (performance.now()), in the order they ended. */
  readonly #spans: { start: number; end: number; round: number }[] = [];

  readonly record = (call: UpstreamCall): void => {
    this.calls.push(call);
    const end = performance.now();
    const start = end - call.durationMs;
    // Attempts are reported as they end, so every attempt that ended before this one started is
    // already here.
    let before = 0;
    for (const span of this.#spans)
      if (span.end <= start && span.round > before) before = span.round;
    this.#spans.push({ start, end, round: before + 1 });
  };

  summary(): UpstreamStatsSummary {
    const byRoute: UpstreamStatsSummary['byRoute'] = {};
    let totalMs = 0;
    let retries = 0;
    for (const call of this.calls) {
      const key = `${call.method} ${call.route}`;
      const entry = byRoute[key] ?? { calls: 0, ms: 0 };
      entry.calls += 1;
      entry.ms = round(entry.ms + call.durationMs);
      byRoute[key] = entry;
      totalMs += call.durationMs;
      if (call.attempt > 1) retries += 1;
    }
    const rounds = this.#spans.reduce((most, span) => Math.max(most, span.round), 0);
    return { calls: this.calls.length, retries, totalMs: round(totalMs), rounds, byRoute };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
