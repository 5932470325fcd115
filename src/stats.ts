import type { UpstreamCall } from './scim/client.ts';

export type UpstreamStatsSummary = {
  /** HTTP attempts sent upstream, retries included. */
  calls: number;
  /** Of those, how many were retries of an earlier attempt. */
  retries: number;
  /** Sum of the attempts' durations (they may overlap). */
  totalMs: number;
  /** Per `METHOD /route/template`: attempts and summed duration. */
  byRoute: Record<string, { calls: number; ms: number }>;
};

/** Collects the upstream calls of one GraphQL request (design.md "What is measured"). */
export class UpstreamStats {
  readonly calls: UpstreamCall[] = [];

  readonly record = (call: UpstreamCall): void => {
    this.calls.push(call);
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
    return { calls: this.calls.length, retries, totalMs: round(totalMs), byRoute };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;
