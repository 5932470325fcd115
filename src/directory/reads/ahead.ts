// Reads a nested field will need, started alongside the read of the field that contains it.

/**
 * Awaits `main` and, in parallel, a read that a nested field will need (`side`), so that both
 * round trips overlap. The side read is awaited too: it ends inside this request, is counted in
 * its upstream stats, and never lands in another request's window.
 */
export async function alongside<T>(main: Promise<T>, side: Promise<unknown> | false): Promise<T> {
  // allSettled: even when `main` fails, the side read ends before the request does. A failed
  // side read is not reported here; the nested field that awaits it reports it.
  const [result] = await Promise.allSettled([main, side || undefined]);
  if (result.status === 'rejected') throw result.reason;
  return result.value;
}
