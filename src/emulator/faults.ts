import { createPrng, type Prng } from './prng.ts';

// Injected upstream failures, to exercise the facade's retry and idempotency rules (docs/design.md
// "What is measured"). Two sources, checked in this order for every authenticated request:
// - a scripted queue, consumed by the next matching requests (deterministic, for tests);
// - random shares drawn from a seeded PRNG, so a benchmark run with the same seed and the same
//   request sequence sees the same faults.
// `reset-after-apply` commits the write to the store and then destroys the socket without an
// answer: the client cannot tell it from `reset-before-apply`, which is exactly the case that
// makes a naive retry of POST /Users create a duplicate (or answer 409).

export type FaultKind = 'reset-before-apply' | 'reset-after-apply' | 'hang' | 429 | 500 | 503;

export type FaultOptions = {
  /** Added to every answer, in milliseconds. @default 0 */
  latencyMs?: number;
  /** Seed of the PRNG behind the random shares. @default 1 */
  seed?: number;
  /** HTTP methods the random shares apply to (upper case). @default all */
  methods?: string[];
  /** Share (0..1) of requests answered 429 with Retry-After. @default 0 */
  rate429?: number;
  /** Share (0..1) of requests answered 500. @default 0 */
  rate500?: number;
  /** Share (0..1) of requests answered 503. @default 0 */
  rate503?: number;
  /** Share (0..1) of requests whose connection is reset before anything is applied. @default 0 */
  rateResetBeforeApply?: number;
  /** Share (0..1) of requests applied, then reset without an answer. @default 0 */
  rateResetAfterApply?: number;
  /** Share (0..1) of requests that never get an answer. @default 0 */
  rateHang?: number;
  /** Retry-After seconds sent with 429 (and 503). @default 1 */
  retryAfterSeconds?: number;
};

export type ScriptedFault = {
  /** Only requests with this method (any case); any when omitted. */
  method?: string;
  /** Matched against the path relative to the base, without the query string; exact if a string. */
  path?: RegExp | string;
  fault: FaultKind;
  /** How many matching requests this entry hits. @default 1 */
  times?: number;
  retryAfterSeconds?: number;
};

export type FaultDecision = { fault: FaultKind; retryAfterSeconds: number };

const RANDOM_ORDER = [
  ['rate429', 429],
  ['rate500', 500],
  ['rate503', 503],
  ['rateResetBeforeApply', 'reset-before-apply'],
  ['rateResetAfterApply', 'reset-after-apply'],
  ['rateHang', 'hang'],
] as const satisfies readonly (readonly [keyof FaultOptions, FaultKind])[];

export class FaultController {
  #options: FaultOptions = {};
  #prng: Prng = createPrng(1);
  readonly #queue: (ScriptedFault & { left: number })[] = [];

  constructor(options?: FaultOptions) {
    if (options) this.set(options);
  }

  /** Replaces the random fault settings and re-seeds the PRNG. The scripted queue is kept. */
  set(options: FaultOptions): void {
    for (const [key] of RANDOM_ORDER) {
      const share = options[key];
      if (share !== undefined && !(share >= 0 && share <= 1)) {
        throw new RangeError(`faults.${key} must be between 0 and 1, got ${share}`);
      }
    }
    this.#options = { ...options };
    this.#prng = createPrng(options.seed ?? 1);
  }

  /** Removes every random setting, the latency and the scripted queue. */
  clear(): void {
    this.#options = {};
    this.#prng = createPrng(1);
    this.#queue.length = 0;
  }

  enqueue(fault: ScriptedFault): void {
    const times = fault.times ?? 1;
    if (!(Number.isInteger(times) && times >= 1)) {
      throw new RangeError(`faults.enqueue: times must be a positive integer, got ${times}`);
    }
    this.#queue.push({ ...fault, left: times });
  }

  /** Scripted faults not consumed yet (counting `times`). */
  pending(): number {
    return this.#queue.reduce((sum, f) => sum + f.left, 0);
  }

  get latencyMs(): number {
    return this.#options.latencyMs ?? 0;
  }

  decide(method: string, path: string): FaultDecision | undefined {
    const index = this.#queue.findIndex((f) => matches(f, method, path));
    const scripted = this.#queue[index];
    if (scripted) {
      scripted.left -= 1;
      if (scripted.left === 0) this.#queue.splice(index, 1);
      return {
        fault: scripted.fault,
        retryAfterSeconds: scripted.retryAfterSeconds ?? this.#options.retryAfterSeconds ?? 1,
      };
    }
    const o = this.#options;
    if (o.methods && !o.methods.some((m) => m.toUpperCase() === method)) return undefined;
    if (!RANDOM_ORDER.some(([key]) => (o[key] ?? 0) > 0)) return undefined;
    // One draw per eligible request, compared against cumulative shares.
    const draw = this.#prng.next();
    let threshold = 0;
    for (const [key, fault] of RANDOM_ORDER) {
      threshold += o[key] ?? 0;
      if (draw < threshold) return { fault, retryAfterSeconds: o.retryAfterSeconds ?? 1 };
    }
    return undefined;
  }
}

function matches(fault: ScriptedFault, method: string, path: string): boolean {
  if (fault.method && fault.method.toUpperCase() !== method) return false;
  if (fault.path === undefined) return true;
  return typeof fault.path === 'string' ? fault.path === path : fault.path.test(path);
}
