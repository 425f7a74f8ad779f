/**
 * One upstream subscription for every identical subscription of one caller:
 * the same subgraph, primary operation text and primary variables, opened
 * through that caller's pool (upstream.ts), so the identity the subgraph
 * filters by is the same for all of them. A customer with 200 screens on one
 * reservation costs the subgraph one stream per router, not 200, and each
 * change crosses the router↔subgraph socket once.
 *
 * Whether a subscription may be shared, and how a late joiner catches up,
 * depends on what its stream means; the supergraph says it
 * (`@replayAfter` on an argument, see replay-directive.ts), the planner
 * turns it into a {@link Sharing}:
 * - `replay`: the stream is an ordered log after the position the client
 *   gave (e.g. `sinceVersion: 3`). A solo subscription opened later with the
 *   same arguments would deliver the same sequence, so a late joiner first
 *   gets everything the shared stream has delivered so far, then what comes
 *   next. The delivered events are kept for that, at most
 *   {@link REPLAY_LOG_LIMIT}; past it the stream serves the subscribers it
 *   has and takes no more, and the next identical subscription opens a new
 *   one.
 * - `live`: the same field without a position ("from now"). A subscription
 *   opened later would start later, so a late joiner gets what arrives from
 *   its joining on, as Apollo Router's subscription deduplication does.
 * - `none`: nothing is known about the stream; every subscription has its
 *   own upstream (events are still resolved once, shared-execution.ts).
 *
 * Edge cases:
 * - A joiner's catch-up and its first live event are handed over in one
 *   synchronous step, so nothing falls between them and nothing comes twice.
 * - The upstream failing (socket dropped, subgraph error) or completing
 *   ends every subscriber alike; the stream leaves the table at once, so a
 *   later subscription opens a new one. So does an answer that may end the
 *   stream (errors and no data): a later subscription gets its own answer.
 * - A subscriber leaving (client `complete`, socket closed) ends only its
 *   copy; the upstream is unsubscribed with the last one.
 * - Each subscriber has its own Channel: a slow one is bounded and closed
 *   by the router's backpressure (server.ts) without holding up the others.
 */
import { sharedUpstreamJoins } from '../metrics.js';
import { Channel } from './channel.js';

/** How one subscription may share its upstream stream (see the module comment). */
export type Sharing = 'replay' | 'live' | 'none';

/** Events a `replay` stream keeps for late joiners; a stream that delivered more takes no new subscribers. */
export const REPLAY_LOG_LIMIT = 100;

/** Where an upstream stream's messages go (what graphql-ws's client calls). */
export interface UpstreamSink<T> {
  next(value: T): void;
  error(err: unknown): void;
  complete(): void;
}

/** Opens the real upstream subscription into `sink`; returns its unsubscribe. */
export type OpenUpstream<T> = (sink: UpstreamSink<T>) => () => void;

class SharedStream<T> implements UpstreamSink<T> {
  readonly subscribers = new Set<Channel<T>>();
  /** What this stream delivered, for late joiners (`replay`); undefined in `live` mode and once past the limit. */
  log: T[] | undefined;
  unsubscribe: () => void = () => {};
  finished = false;

  /** False once the stream delivered what may end it (see the `isFinal` of {@link SharedUpstreams}). */
  private open = true;

  constructor(
    readonly sharing: 'replay' | 'live',
    private readonly leave: (stream: SharedStream<T>) => void,
    private readonly isFinal: (value: T) => boolean,
  ) {
    this.log = sharing === 'replay' ? [] : undefined;
  }

  /** May a new identical subscription join now? */
  get joinable(): boolean {
    return this.open && !this.finished && (this.sharing === 'live' || this.log !== undefined);
  }

  next(value: T): void {
    if (this.open && this.isFinal(value)) {
      this.open = false;
      this.leave(this);
    }
    if (this.log) {
      if (this.log.length < REPLAY_LOG_LIMIT) this.log.push(value);
      else {
        this.log = undefined;
        this.leave(this);
      }
    }
    for (const s of this.subscribers) s.push(value);
  }

  error(err: unknown): void {
    this.finish();
    for (const s of [...this.subscribers]) s.fail(err);
  }

  complete(): void {
    this.finish();
    for (const s of [...this.subscribers]) s.end();
  }

  /** A new subscriber: what the stream delivered so far (`replay`), then what comes. */
  join(): Channel<T> {
    const channel: Channel<T> = new Channel(() => {
      this.subscribers.delete(channel);
      if (this.subscribers.size > 0 || this.finished) return;
      this.finish();
      this.unsubscribe();
    });
    for (const value of this.log ?? []) channel.push(value);
    this.subscribers.add(channel);
    return channel;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.log = undefined;
    this.leave(this);
  }
}

/**
 * The shared upstream streams of one caller's pool, by subscription key
 * (subgraph, URL, operation, variables).
 */
export class SharedUpstreams<T> {
  private readonly streams = new Map<string, SharedStream<T>>();

  /**
   * `isFinal`: a value after which the subgraph may end the stream (an
   * answer with errors and no data, e.g. NOT_FOUND, then `complete`). A
   * stream that delivered one takes no new subscribers: one joining in the
   * moment before the `complete` would get an empty stream in `live` mode
   * instead of its own answer. When the stream goes on after all, later
   * subscribers simply open their own.
   */
  constructor(private readonly isFinal: (value: T) => boolean = () => false) {}

  /**
   * A subscriber's channel on the stream `key` names: joins the open one
   * when it may, else opens a new one with `open`.
   */
  subscribe(key: string, sharing: 'replay' | 'live', open: OpenUpstream<T>): Channel<T> {
    const existing = this.streams.get(key);
    if (existing?.joinable && existing.sharing === sharing) {
      sharedUpstreamJoins.inc({ outcome: 'joined' });
      return existing.join();
    }
    sharedUpstreamJoins.inc({ outcome: 'opened' });
    const stream = new SharedStream<T>(
      sharing,
      (s) => {
        if (this.streams.get(key) === s) this.streams.delete(key);
      },
      this.isFinal,
    );
    this.streams.set(key, stream);
    const channel = stream.join();
    stream.unsubscribe = open(stream);
    return channel;
  }

  /** Streams that take new subscribers now (tests). */
  size(): number {
    return this.streams.size;
  }
}
