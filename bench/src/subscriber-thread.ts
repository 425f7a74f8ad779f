/**
 * One worker thread of the subscriptions bench's load generator: it opens
 * its share of the graphql-ws subscribers at their due times and records,
 * per subscriber, when each message arrived.
 *
 * Why threads: one event loop handling 10,000 sockets timestamps a burst of
 * messages only as fast as it can parse them, and one GC pause of its large
 * heap delays every timestamp behind it; that is the load generator's
 * latency, not the system's. Each thread has its own loop and heap.
 *
 * Protocol with the parent (subscriber-threads.ts), by `postMessage`:
 * - the thread → `{ type: 'ready' }` once loaded; parent → `{ type: 'open', at }`
 *   starts opening, each subscriber at `at + offsetMs` (epoch ms), so no
 *   thread's start-up makes its first subscribers open late in a burst;
 * - parent → `{ type: 'pending', status }` → `{ type: 'pending', count }`:
 *   subscribers live and without a message carrying `status` (for `null`:
 *   those without their first message and without an error; subscribers
 *   not opened yet count too);
 * - `{ type: 'live' }` → `{ type: 'live', count }`: subscribers that had their first message;
 * - `{ type: 'loop-delay', on: boolean }` starts or stops timing this
 *   thread's event-loop delay; stopping answers `{ type: 'loop-delay', p50Ms, p99Ms, maxMs }`;
 * - `{ type: 'report' }` → `{ type: 'report', subscribers }`, then the thread
 *   closes its clients and exits.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** One subscriber this thread opens. */
export interface PlannedSubscriber {
  index: number;
  url: string;
  token: string;
  reservationId: string;
  /** When to open it, in ms after the opening starts. */
  offsetMs: number;
}

export interface ThreadData {
  query: string;
  subscribers: PlannedSubscriber[];
}

/** What a subscriber saw, as the thread reports it. */
export interface SubscriberReport {
  index: number;
  reservationId: string;
  openedAt: number;
  firstMessageAt?: number;
  /** Status → when its message arrived and the version it carried. */
  received: Array<[status: string, at: number, version: number]>;
  /** Every version received, in order (to check once and in order). */
  versions: number[];
  errors: string[];
  completed: boolean;
}

export type ToThread =
  | { type: 'open'; at: number }
  | { type: 'pending'; status: string | null }
  | { type: 'live' }
  | { type: 'loop-delay'; on: boolean }
  | { type: 'report' };
export type FromThread =
  | { type: 'ready' }
  | { type: 'pending'; count: number }
  | { type: 'live'; count: number }
  | { type: 'loop-delay'; p50Ms: number; p99Ms: number; maxMs: number }
  | { type: 'report'; subscribers: SubscriberReport[] };

type Update = { reservationStatus: { version: number; reservation: { status: string } } };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function open(query: string, planned: PlannedSubscriber, clients: Client[]): SubscriberReport {
  const client = createClient({
    url: planned.url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${planned.token}` },
    retryAttempts: 0,
    lazy: true,
  });
  clients.push(client);
  const report: SubscriberReport = { index: planned.index, reservationId: planned.reservationId, openedAt: Date.now(), received: [], versions: [], errors: [], completed: false };
  const seen = new Set<string>();
  client.subscribe<Update>(
    { query, variables: { id: planned.reservationId } },
    {
      next: (msg) => {
        const now = Date.now();
        report.firstMessageAt ??= now;
        const update = msg.data?.reservationStatus;
        if (update) report.versions.push(update.version);
        const status = update?.reservation.status;
        if (status && update && !seen.has(status)) {
          seen.add(status);
          report.received.push([status, now, update.version]);
        }
        if (msg.errors) report.errors.push(msg.errors[0]?.message ?? 'error');
      },
      error: (err) => report.errors.push(err instanceof Error ? err.message : JSON.stringify(err).slice(0, 200)),
      complete: () => (report.completed = true),
    },
  );
  return report;
}

function pending(reports: SubscriberReport[], status: string | null): number {
  if (status === null) return reports.filter((r) => r.firstMessageAt === undefined && r.errors.length === 0).length;
  return reports.filter((r) => r.firstMessageAt !== undefined && !r.received.some(([s]) => s === status)).length;
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('subscriber-thread.ts runs as a worker thread');
  const { query, subscribers } = workerData as ThreadData;
  const clients: Client[] = [];
  const reports: SubscriberReport[] = [];
  const delay = monitorEventLoopDelay({ resolution: 10 });
  port.on('message', (msg: ToThread) => {
    const send = (m: FromThread) => port.postMessage(m);
    if (msg.type === 'open') void openAll(msg.at);
    else if (msg.type === 'pending') send({ type: 'pending', count: pending(reports, msg.status) + (subscribers.length - reports.length) });
    else if (msg.type === 'live') send({ type: 'live', count: reports.filter((r) => r.firstMessageAt !== undefined).length });
    else if (msg.type === 'loop-delay') {
      if (msg.on) {
        delay.reset();
        delay.enable();
      } else {
        delay.disable();
        send({ type: 'loop-delay', p50Ms: delay.percentile(50) / 1e6, p99Ms: delay.percentile(99) / 1e6, maxMs: delay.max / 1e6 });
      }
    } else {
      send({ type: 'report', subscribers: reports });
      void Promise.all(clients.map((c) => c.dispose())).finally(() => port.close());
    }
  });
  const openAll = async (at: number) => {
    for (const planned of subscribers) {
      const due = at + planned.offsetMs;
      if (due > Date.now()) await sleep(due - Date.now());
      reports.push(open(query, planned, clients));
    }
  };
  port.postMessage({ type: 'ready' } satisfies FromThread);
}

void main();
