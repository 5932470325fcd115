import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Heap measurements for the memory tests: V8's gc() made callable in this process.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (options?: {
  type: 'minor' | 'major';
  execution: 'sync';
}) => void;

/** Bytes of heap in use after two full collections. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const oldSpaceUsed = () =>
  getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;

/**
 * Bytes by which the old generation grows while `run` runs: measured from a full collection, and
 * after two scavenges at the end, so that whatever `run` left reachable by the young generation's
 * collector has been promoted. What a request leaves behind for the next full collection, where
 * a request's objects should die young.
 */
export async function oldGenerationGrowth(run: () => Promise<void>): Promise<number> {
  gc();
  gc();
  const before = oldSpaceUsed();
  await run();
  gc({ type: 'minor', execution: 'sync' });
  gc({ type: 'minor', execution: 'sync' });
  return oldSpaceUsed() - before;
}
