// The one failure the shared-state stores add: the store (Redis) cannot be reached or did not
// answer in time. A mutation that needs the store to stay safe (an idempotency key, a group
// lock) fails with it before anything is written upstream, and the caller may simply retry.

export class SharedStateUnavailableError extends Error {
  readonly code = 'SHARED_STATE_UNAVAILABLE';

  constructor(what: string, cause?: unknown) {
    super(
      `The shared state store is unreachable (${what}); nothing was written. Retry later.`,
      cause === undefined ? undefined : { cause },
    );
    this.name = 'SharedStateUnavailableError';
  }
}
