/**
 * The subscriptions bench's load generator, spread over worker threads
 * (subscriber-thread.ts says why and speaks the protocol): the parent plans
 * who opens when, asks the threads how many subscribers still wait for a
 * message, and collects what each subscriber saw.
 */
import { Worker } from 'node:worker_threads';
import type { FromThread, PlannedSubscriber, SubscriberReport, ThreadData, ToThread } from './subscriber-thread.js';

export type { PlannedSubscriber, SubscriberReport } from './subscriber-thread.js';

/** An event-loop delay summary, the worst thread's. */
export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * The thread's entry: Node 20 refuses a `.ts` file as a worker's entry
 * before any loader hook runs (also with `--import tsx` in `execArgv`), so
 * a one-line script loads it through tsx's API.
 */
const THREAD_ENTRY = `import('tsx/esm/api').then((tsx) => tsx.tsImport(${JSON.stringify(
  new URL('./subscriber-thread.ts', import.meta.url).href,
)}, ${JSON.stringify(import.meta.url)}))`;

export class SubscriberThreads {
  private constructor(private readonly workers: Worker[]) {}

  /** Starts `threads` threads (subscriber i goes to thread i mod threads) and resolves once every one is loaded. */
  static async start(query: string, planned: readonly PlannedSubscriber[], threads: number): Promise<SubscriberThreads> {
    const workers = Array.from({ length: threads }, (_, t) => {
      const workerData: ThreadData = { query, subscribers: planned.filter((p) => p.index % threads === t) };
      const worker = new Worker(THREAD_ENTRY, { eval: true, workerData });
      worker.on('error', (err) => console.error(`[subscriptions] subscriber thread ${t} failed:`, err));
      return worker;
    });
    const all = new SubscriberThreads(workers);
    await all.answers();
    return all;
  }

  /** Every thread starts opening its subscribers now, each at its offset. */
  open(): void {
    const at = Date.now();
    for (const w of this.workers) w.postMessage({ type: 'open', at } satisfies ToThread);
  }

  /** Subscribers without a message carrying `status` yet (`null`: without their first message or an error). */
  async pending(status: string | null): Promise<number> {
    const answers = await this.answers({ type: 'pending', status });
    return answers.reduce((n, a) => n + (a.type === 'pending' ? a.count : 0), 0);
  }

  /** Subscribers that had their first message. */
  async live(): Promise<number> {
    const answers = await this.answers({ type: 'live' });
    return answers.reduce((n, a) => n + (a.type === 'live' ? a.count : 0), 0);
  }

  /** Starts timing each thread's event-loop delay. */
  startLoopDelay(): void {
    for (const w of this.workers) w.postMessage({ type: 'loop-delay', on: true } satisfies ToThread);
  }

  /** Stops timing; the worst thread's figures. */
  async stopLoopDelay(): Promise<LoopDelay> {
    const answers = await this.answers({ type: 'loop-delay', on: false });
    const worst: LoopDelay = { p50Ms: 0, p99Ms: 0, maxMs: 0 };
    for (const a of answers) {
      if (a.type !== 'loop-delay') continue;
      worst.p50Ms = Math.max(worst.p50Ms, a.p50Ms);
      worst.p99Ms = Math.max(worst.p99Ms, a.p99Ms);
      worst.maxMs = Math.max(worst.maxMs, a.maxMs);
    }
    return worst;
  }

  /** What every subscriber saw, in subscriber order; the threads then close their clients and end. */
  async report(): Promise<SubscriberReport[]> {
    const exited = this.workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    const answers = await this.answers({ type: 'report' });
    const all = answers.flatMap((a) => (a.type === 'report' ? a.subscribers : []));
    await Promise.all(exited);
    return all.sort((a, b) => a.index - b.index);
  }

  /** The next message of every thread (after sending `message`, if given). */
  private answers(message?: ToThread): Promise<FromThread[]> {
    return Promise.all(
      this.workers.map(
        (w) =>
          new Promise<FromThread>((resolve, reject) => {
            const failed = (err: unknown) => reject(err instanceof Error ? err : new Error(`subscriber thread ended (${String(err)})`));
            w.once('error', failed);
            w.once('exit', failed);
            w.once('message', (m: FromThread) => {
              w.off('error', failed);
              w.off('exit', failed);
              resolve(m);
            });
            if (message) w.postMessage(message);
          }),
      ),
    );
  }
}
