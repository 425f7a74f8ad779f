/**
 * A push-based async iterator: producers `push`, `fail` or `end`; one
 * consumer iterates with `for await`.
 *
 * Why not an async generator: graphql-ws stops a subscription (client
 * `complete`, socket closed) by calling `return()` on the iterator and
 * awaiting it. An async generator suspended in an `await` (waiting for the
 * next upstream event) only runs `return()` after that event arrives, so a
 * quiet subscription could never be stopped. Here `return()` settles at once:
 * a pending `next()` resolves `done`, buffered values are dropped and
 * `onReturn` runs exactly once (the producer's clean-up: unsubscribe
 * upstream, release the slot). `end()`/`fail()` run it too.
 *
 * Bounded: with `highWaterMark`, a push that finds that many values already
 * waiting for the consumer is not buffered; `onOverflow` runs (once) and
 * decides what the slow consumer gets (the router closes its socket with a
 * code that makes it reconnect and resume). The buffer never holds more than
 * `highWaterMark` values.
 */
export interface ChannelBound {
  highWaterMark: number;
  onOverflow(): void;
}

/** What a failure rejects with: the error itself, or an Error saying what was thrown instead. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export class Channel<T> implements AsyncIterableIterator<T> {
  private readonly buffer: T[] = [];
  private readonly waiting: Array<{ resolve(r: IteratorResult<T>): void; reject(e: unknown): void }> = [];
  private failure: { error: unknown } | undefined;
  private finished = false;
  private cleaned = false;
  private overflowed = false;

  constructor(
    private readonly onReturn: () => void = () => {},
    private readonly bound?: ChannelBound,
  ) {}

  /** Values waiting for the consumer. */
  get buffered(): number {
    return this.buffer.length;
  }

  /** True once ended, failed or returned: pushes are ignored. */
  get closed(): boolean {
    return this.finished;
  }

  push(value: T): void {
    if (this.finished) return;
    const waiter = this.waiting.shift();
    if (waiter) {
      waiter.resolve({ value, done: false });
      return;
    }
    if (this.bound && this.buffer.length >= this.bound.highWaterMark) {
      if (!this.overflowed) {
        this.overflowed = true;
        this.bound.onOverflow();
      }
      return;
    }
    this.buffer.push(value);
  }

  /** No more values; buffered ones are still delivered. */
  end(): void {
    if (this.finished) return;
    this.finished = true;
    this.cleanup();
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  /** The consumer's next `next()` (after buffered values) rejects with `error`. */
  fail(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.failure = { error };
    this.cleanup();
    const waiter = this.waiting.shift();
    if (waiter) {
      this.failure = undefined;
      waiter.reject(asError(error));
    }
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.buffer.length > 0) return Promise.resolve({ value: this.buffer.shift() as T, done: false });
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(asError(error));
    }
    if (this.finished) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Stops at once (see the module comment). */
  return(): Promise<IteratorResult<T>> {
    this.buffer.length = 0;
    this.failure = undefined;
    this.finished = true;
    this.cleanup();
    for (const w of this.waiting.splice(0)) w.resolve({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<T>> {
    void this.return();
    return Promise.reject(asError(error));
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    this.onReturn();
  }
}
