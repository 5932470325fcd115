// The client's hook for a budget of calls to the upstream, shared by every caller of one client
// and, with a shared implementation (src/stores/budget.ts), by every replica of the service.
// Two rules: calls are spaced to a rate (a token bucket), and after a 429 with Retry-After
// nobody calls before that time. The client asks before each HTTP attempt, retries included, and
// waits the answer out itself (under the call's deadline and the caller's signal).

export type BudgetDecision =
  /** A slot is reserved: send after waiting this long (0 = now). */
  | { waitMs: number }
  /**
   * No slot within the time the call has left; nothing was reserved. The call fails at once as
   * rate limited, with this as its retry-after, instead of waiting out its deadline.
   */
  | { refusedForMs: number };

export interface UpstreamBudget {
  /** Reserves the next call slot if it starts within `maxWaitMs`. Must not reject. */
  reserve(maxWaitMs: number): Promise<BudgetDecision>;
  /** The upstream answered 429 with Retry-After: no call starts before `retryAfterMs` from now. */
  onRateLimited(retryAfterMs: number): Promise<void>;
}
