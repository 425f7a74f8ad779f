/**
 * Per-caller mutation rate limit in Redis: a fixed one-minute window per
 * caller, counted with INCR and started with PEXPIRE in one Lua script (so
 * a counter never lives without its expiry). The caller is the token's
 * `sub` (`u:<sub>`), or the client address for anonymous callers
 * (`ip:<address>`). Over the limit: `TRY_LATER`, HTTP 429, `Retry-After`
 * and `extensions.retryAfterSeconds` (the window's remaining time).
 *
 * Redis unreachable or slow (> 500 ms): the call is let through (fail open)
 * and logged; the limit protects capacity, it is not an authorization rule.
 */
import type { Redis } from 'ioredis';
import { HeaderMap } from '@apollo/server';
import type { Logger } from '@rental/observability';
import { GraphQLError } from '../subscriptions/graphql.js';

const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}
`;

export interface RateDecision {
  allowed: boolean;
  count: number;
  retryAfterSeconds: number;
}

export class MutationRateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    readonly perMinute: number,
    private readonly logger: Logger,
    private readonly windowMs = 60_000,
  ) {}

  /** Counts one mutation of `caller`; fail-open on Redis trouble. */
  async hit(caller: string): Promise<RateDecision> {
    try {
      const [count, ttl] = (await this.redis.eval(SCRIPT, 1, `${this.prefix}rl:mutations:${caller}`, String(this.windowMs))) as [number, number];
      return { allowed: count <= this.perMinute, count, retryAfterSeconds: Math.max(1, Math.ceil(ttl / 1000)) };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message, caller }, 'rate limit unavailable; letting the call through');
      return { allowed: true, count: 0, retryAfterSeconds: 0 };
    }
  }
}

/** The caller's rate-limit key: the signed-in subject, else the client address. */
export function callerKey(identity: { role: string; sub: string }, clientIp: string | undefined): string {
  return identity.role === 'ANONYMOUS' ? `ip:${clientIp ?? 'unknown'}` : `u:${identity.sub}`;
}

/** The TRY_LATER error for a caller over the limit (HTTP 429 + Retry-After). */
export function tryLaterError(perMinute: number, retryAfterSeconds: number) {
  return new GraphQLError(`Too many changes: at most ${perMinute} per minute; try again in ${retryAfterSeconds} s`, {
    extensions: {
      code: 'TRY_LATER',
      retryAfterSeconds,
      http: { status: 429, headers: new HeaderMap([['retry-after', String(retryAfterSeconds)]]) },
    },
  });
}
