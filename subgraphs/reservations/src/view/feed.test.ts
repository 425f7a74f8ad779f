/**
 * The feed's memory of what it heard, on a real Redis: it vouches only for
 * a stretch in which the channel was subscribed throughout, and only for
 * the last RECENT_MS.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '@rental/observability';
import type { ViewSnapshot } from '../data/view-data.js';
import { RECENT_MS, ViewFeed, ViewPublisher, reservationChannel } from './feed.js';

const redisUrl = process.env.REDIS_URL as string;
const prefix = `feed-test-${randomUUID().slice(0, 8)}`;
const logger = createLogger('feed-test', 'silent');
const feed = new ViewFeed(redisUrl, prefix, logger);
const publisher = new ViewPublisher(redisUrl, prefix, logger);
afterAll(async () => {
  await feed.close();
  await publisher.close();
});

const snapshot = (reservationId: string, version: number) => ({ reservationId, customerId: null, version, sequence: version, updatedAt: new Date().toISOString() }) as unknown as ViewSnapshot;
const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
};

describe('ViewFeed.heardSince', () => {
  it('vouches from the confirmed SUBSCRIBE on, with the messages heard since a moment; not before, not for a channel it does not hear', async () => {
    const id = randomUUID();
    const channel = reservationChannel(prefix, id);
    const beforeListening = performance.now();
    expect(feed.heardSince(channel, beforeListening)).toBeUndefined();
    const got: number[] = [];
    const stop = await feed.listen(channel, (s) => got.push(s.version));
    const listening = performance.now();
    await publisher.publish(snapshot(id, 1));
    await until(() => got.length === 1);
    expect(got).toEqual([1]);
    expect(feed.heardSince(channel, listening)?.map((s) => s.version)).toEqual([1]);
    // Since a moment after the message: it vouches, with nothing heard.
    expect(feed.heardSince(channel, performance.now())).toEqual([]);
    // Before the channel was subscribed: it cannot vouch.
    expect(feed.heardSince(channel, beforeListening)).toBeUndefined();
    // Longer ago than it remembers: it cannot vouch either.
    expect(feed.heardSince(channel, performance.now() - RECENT_MS - 1)).toBeUndefined();
    await stop();
    expect(feed.heardSince(channel, listening)).toBeUndefined();
  });
});

describe('ViewFeed.listen', () => {
  /** SUBSCRIBE commands Redis has run so far (INFO commandstats). */
  const subscribes = async () => {
    const { Redis } = await import('ioredis');
    const r = new Redis(redisUrl);
    try {
      return Number(/cmdstat_subscribe:calls=(\d+)/.exec(await r.info('commandstats'))?.[1] ?? 0);
    } finally {
      r.disconnect();
    }
  };

  it('subscribes a channel once, however many listen to it; it is heard until the last stops', async () => {
    const id = randomUUID();
    const channel = reservationChannel(prefix, id);
    const before = await subscribes();
    const stops = await Promise.all(Array.from({ length: 5 }, () => feed.listen(channel, () => undefined)));
    const got: number[] = [];
    stops.push(await feed.listen(channel, (s) => got.push(s.version)));
    expect((await subscribes()) - before).toBe(1);
    expect(feed.channels()).toContain(channel);
    for (const stop of stops.slice(0, 5)) await stop();
    expect(feed.channels()).toContain(channel);
    await publisher.publish(snapshot(id, 7));
    await until(() => got.length === 1);
    expect(got).toEqual([7]);
    await stops[5]!();
    expect(feed.channels()).not.toContain(channel);
  });
});
