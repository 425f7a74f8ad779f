/**
 * The router's Redis (optional, `REDIS_URL`): the mutation rate limit and the
 * shared automatic-persisted-query cache. Commands fail fast while Redis is
 * unreachable (no offline queue, one retry), and every user of it degrades
 * instead of failing the request: the rate limit lets the call through, the
 * APQ cache misses (the client then sends the full query once more).
 */
import { Redis } from 'ioredis';
import type { KeyValueCache, KeyValueCacheSetOptions } from '@apollo/utils.keyvaluecache';
import type { Logger } from '@rental/observability';

export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2_000,
    commandTimeout: 500,
    lazyConnect: false,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ err: err.message }, 'router redis unavailable (rate limit lets calls through, APQ cache misses)');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info('router redis back');
    down = false;
  });
  return redis;
}

/** Apollo's KeyValueCache over ioredis (shared by all router replicas). */
export class RedisKeyValueCache implements KeyValueCache<string> {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'apq cache get failed');
      return undefined;
    }
  }

  async set(key: string, value: string, options?: KeyValueCacheSetOptions): Promise<void> {
    try {
      const ttl = options?.ttl;
      if (typeof ttl === 'number' && ttl > 0) await this.redis.set(this.prefix + key, value, 'EX', Math.ceil(ttl));
      else await this.redis.set(this.prefix + key, value);
    } catch (err) {
      this.logger.debug({ err: (err as Error).message }, 'apq cache set failed');
    }
  }

  async delete(key: string): Promise<boolean | void> {
    try {
      await this.redis.del(this.prefix + key);
    } catch {
      // a miss later is harmless
    }
  }
}
