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

/**
 * A group's write lock could not be had in time (another call held it until the request's
 * deadline), or was lost before a write (its lease ran out): nothing was written. Retry.
 */
export class GroupBusyError extends Error {
  readonly code = 'GROUP_BUSY';

  constructor(reason: 'deadline' | 'lost') {
    super(
      reason === 'deadline'
        ? 'Another call kept changing this group until the request deadline; nothing was written. Retry.'
        : 'This call lost its lock on the group before writing; nothing was written. Retry.',
    );
    this.name = 'GroupBusyError';
  }
}
