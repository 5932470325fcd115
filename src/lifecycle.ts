import type { Server } from 'node:http';

// Graceful shutdown of the HTTP server. The order matters to an orchestrator: `/ready` turns 503
// first (so a load balancer stops sending), then the listener closes, then requests already in
// flight get up to the grace period to finish: longer than an upstream call's deadline, so that a
// write which reached Keeper is also answered to its caller.

export type Lifecycle = {
  /** True once shutdown has begun; `/ready` answers 503 from then on. */
  readonly draining: boolean;
  beginShutdown(): void;
};

export function createLifecycle(): Lifecycle {
  let draining = false;
  return {
    get draining() {
      return draining;
    },
    beginShutdown() {
      draining = true;
    },
  };
}

/**
 * Stops accepting connections and waits until every in-flight request has been answered, at most
 * `graceMs`; then closes whatever is left. Resolves with how it ended.
 */
export async function drainServer(server: Server, graceMs: number): Promise<'drained' | 'forced'> {
  const closed = new Promise<'drained'>((resolve) => server.close(() => resolve('drained')));
  // Kept-alive connections with no request in flight would otherwise hold close() open.
  server.closeIdleConnections();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'forced'>((resolve) => {
    timer = setTimeout(() => resolve('forced'), graceMs);
  });
  const outcome = await Promise.race([closed, expired]);
  clearTimeout(timer);
  if (outcome === 'forced') server.closeAllConnections();
  return outcome;
}
