import type { Config } from '../../config.ts';
import type { CallOptions, ScimClient } from '../../scim/client.ts';
import type { UpstreamInfo } from '../../upstream.ts';
import type { LookupStrategy, PlanLimits } from './plan.ts';

/** What every read of one request works with: the client, what is known of the upstream, limits. */
export type ReadEnv = {
  scim: ScimClient;
  upstream: UpstreamInfo;
  config: Config['scim'];
  /** The request's call options (signal, deadline, stats): passed to every SCIM call. */
  call: CallOptions;
};

/** One user lookup batch and the strategy chosen for it; shown in `extensions.upstream.batches`. */
export type Decision = { loader: string; keys: number; strategy: LookupStrategy };

/** The counts the plan (plan.ts) decides from, as they are now. */
export const planLimits = ({ upstream, config }: ReadEnv): PlanLimits => ({
  userCount: upstream.userCountHint,
  pageSize: config.pageSize,
  concurrency: config.requestConcurrency,
  scanLimit: config.scanLimit,
});

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of `items`. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
