import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// Heap measurements for the memory tests: V8's gc() made callable in this process.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Bytes of heap in use after two full collections. */
export function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
