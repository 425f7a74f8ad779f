/**
 * SharedUpstreams on its own, driven through the sink it hands to `open`
 * (the same calls graphql-ws's client makes): who joins, what a joiner
 * receives first, and when the upstream is unsubscribed.
 */
import { describe, expect, it } from 'vitest';
import { REPLAY_LOG_LIMIT, SharedUpstreams, type UpstreamSink } from './shared-upstream.js';
import type { Channel } from './channel.js';

type Event = { v: number; final?: boolean };

function upstreams() {
  const opened: Array<{ sink: UpstreamSink<Event>; unsubscribed: boolean }> = [];
  const shared = new SharedUpstreams<Event>((e) => e.final === true);
  const subscribe = (sharing: 'replay' | 'live', key = 'k') =>
    shared.subscribe(key, sharing, (sink) => {
      const entry = { sink, unsubscribed: false };
      opened.push(entry);
      return () => {
        entry.unsubscribed = true;
      };
    });
  return { opened, subscribe, shared };
}

/** What a channel holds now (its buffered values), without waiting. */
async function drain(c: Channel<Event>): Promise<number[]> {
  const out: number[] = [];
  while (c.buffered > 0) out.push(((await c.next()).value as Event).v);
  return out;
}

describe('SharedUpstreams', () => {
  it('replay: a late joiner gets what the stream delivered, then what comes, once each', async () => {
    const { opened, subscribe } = upstreams();
    const first = subscribe('replay');
    opened[0]!.sink.next({ v: 1 });
    opened[0]!.sink.next({ v: 2 });
    const late = subscribe('replay');
    opened[0]!.sink.next({ v: 3 });
    expect(opened).toHaveLength(1);
    expect(await drain(first)).toEqual([1, 2, 3]);
    expect(await drain(late)).toEqual([1, 2, 3]);
  });

  it('live: a late joiner gets only what comes after it joined', async () => {
    const { opened, subscribe } = upstreams();
    const first = subscribe('live');
    opened[0]!.sink.next({ v: 1 });
    const late = subscribe('live');
    opened[0]!.sink.next({ v: 2 });
    expect(opened).toHaveLength(1);
    expect(await drain(first)).toEqual([1, 2]);
    expect(await drain(late)).toEqual([2]);
  });

  it(`replay: past ${REPLAY_LOG_LIMIT} events the next subscriber opens a stream of its own; the first keeps receiving`, async () => {
    const { opened, subscribe } = upstreams();
    const first = subscribe('replay');
    for (let v = 1; v <= REPLAY_LOG_LIMIT + 1; v++) opened[0]!.sink.next({ v });
    const late = subscribe('replay');
    expect(opened).toHaveLength(2);
    opened[0]!.sink.next({ v: REPLAY_LOG_LIMIT + 2 });
    expect(await drain(first)).toHaveLength(REPLAY_LOG_LIMIT + 2);
    expect(await drain(late)).toEqual([]);
  });

  it('an answer that may end the stream (errors, no data) stops new joins', () => {
    const { opened, subscribe } = upstreams();
    subscribe('live');
    opened[0]!.sink.next({ v: 1, final: true });
    subscribe('live');
    expect(opened).toHaveLength(2);
  });

  it('the last subscriber leaving unsubscribes upstream, not before; then a new one opens afresh', async () => {
    const { opened, subscribe } = upstreams();
    const a = subscribe('replay');
    const b = subscribe('replay');
    await a.return();
    expect(opened[0]!.unsubscribed).toBe(false);
    await b.return();
    expect(opened[0]!.unsubscribed).toBe(true);
    subscribe('replay');
    expect(opened).toHaveLength(2);
  });

  it('a failure upstream fails every subscriber; the next subscription opens a new stream', async () => {
    const { opened, subscribe } = upstreams();
    const a = subscribe('replay');
    const b = subscribe('replay');
    opened[0]!.sink.error(new Error('interrupted'));
    await expect(a.next()).rejects.toThrow('interrupted');
    await expect(b.next()).rejects.toThrow('interrupted');
    subscribe('replay');
    expect(opened).toHaveLength(2);
  });

  it('different keys, or the same key in another mode, never share', () => {
    const { opened, subscribe } = upstreams();
    subscribe('replay', 'k1');
    subscribe('replay', 'k2');
    subscribe('live', 'k2');
    expect(opened).toHaveLength(3);
  });
});
