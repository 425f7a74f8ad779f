/**
 * Waiting in tests for something asynchronous to have happened (an event
 * handled, a view written, a process back): polls instead of sleeping a
 * guessed time, so a test is as fast as the system and fails with what it
 * waited for.
 */

/**
 * Polls `fn` every `stepMs` until it returns a truthy value (resolved with
 * it). A throw counts as not yet (a server still restarting); after
 * `timeoutMs` it throws naming `what`, with the last error if there was one.
 */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs = 15_000, what = 'condition', stepMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what} not met within ${timeoutMs} ms${last ? ` (last error: ${last instanceof Error ? String(last) : JSON.stringify(last)})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
