import type { FaultKind } from './faults.ts';

// What every request did, for tests and benchmarks (octokit's `__requestLog` idea).
// Requests refused for auth, reset or left hanging are recorded too: a benchmark counting upstream
// calls must see the ones that never got an answer.

export type LogEntry = {
  method: string;
  /** Path relative to the node base URL, with the query string, e.g. `/Users?filter=...`. */
  path: string;
  /** HTTP status sent; 0 when no answer was sent (reset or hang). */
  status: number;
  outcome: 'answered' | 'reset' | 'hang';
  /** The injected fault, if any. */
  fault?: FaultKind;
  /** For `reset-after-apply`: the status the committed request would have answered. */
  appliedStatus?: number;
  /** Wall time from arrival to answer or reset; 0 for hangs (they never end). */
  durationMs: number;
  /** When the request arrived, in epoch milliseconds (sub-millisecond precision). */
  receivedAt: number;
};

export class RequestLog {
  readonly entries: LogEntry[] = [];
  #inFlight = 0;

  /** Requests received but not yet logged (still reading, waiting out latency, or working). */
  get inFlight(): number {
    return this.#inFlight;
  }

  received(): void {
    this.#inFlight += 1;
  }

  record(entry: LogEntry): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.entries.push(entry);
  }

  clear(): void {
    this.entries.length = 0;
  }

  /** Entries with this method (any when omitted) whose path starts with `pathPrefix`. */
  filter(method?: string, pathPrefix?: string): LogEntry[] {
    return this.entries.filter(
      (e) =>
        (method === undefined || e.method === method.toUpperCase()) &&
        (pathPrefix === undefined || e.path.startsWith(pathPrefix)),
    );
  }

  count(method?: string, pathPrefix?: string): number {
    return this.filter(method, pathPrefix).length;
  }

  last(): LogEntry | undefined {
    return this.entries.at(-1);
  }
}
