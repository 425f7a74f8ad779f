/**
 * Runs async tasks one at a time per key, in call order, within this process.
 *
 * Why: FerretDB 1.24 (our local MongoDB-compatible server) executes an update
 * as read-modify-write without isolation between connections. Measured here:
 * 50 concurrent `$inc: -1` on one document over a pool of 50 connections left
 * 89 instead of 50; 30 concurrent conditional holds at stock 10 all "matched".
 * Over a single connection the same updates are exact, and a unique `_id`
 * insert stays exact under concurrency. So the conditional update alone keeps
 * its promise on MongoDB but not on FerretDB; serializing the writes to one
 * item inside the process restores it for one items instance. Several items
 * replicas writing the same FerretDB database would still race: deploy them
 * on MongoDB (where the conditional update is atomic) or as one replica.
 */
export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `task` after every earlier task of `key` has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running (for tests and metrics). */
  get size(): number {
    return this.tails.size;
  }
}
