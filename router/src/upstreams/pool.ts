/**
 * Several URLs for one subgraph (`SUBGRAPH_URLS=items=http://a/graphql|http://b/graphql`).
 *
 * - {@link UpstreamPool.pick} goes round-robin over the URLs that are not
 *   down; when every URL is down it still goes round-robin over all of them
 *   (trying beats failing without trying).
 * - A URL is down for `downMs` after a connection to it was refused
 *   ({@link UpstreamPool.markDown}), and while its readiness check fails.
 * - Readiness check (pools with more than one URL, when `healthPath` is set):
 *   every `healthIntervalMs`, `GET <origin of the URL><healthPath>`; anything
 *   but a 2xx marks the URL down until a check passes again. So an instance
 *   that starts shutting down (its readiness fails first) stops getting
 *   requests before it closes its port, and mutations (never retried) do not
 *   hit it.
 *
 * Nothing here knows a subgraph: names and URLs come from the configuration.
 */
import type { Logger } from '@rental/observability';
import { upstreamUp } from './metrics.js';

export interface PoolOptions {
  /** How long a URL is skipped after a refused connection. */
  downMs: number;
  /** Readiness path polled on each URL's origin ('' = no polling). */
  healthPath: string;
  healthIntervalMs: number;
  logger: Logger;
}

interface Member {
  url: string;
  /** Skipped until this time (ms since epoch) after a refused connection. */
  downUntil: number;
  /** Last readiness check failed. */
  notReady: boolean;
}

/** Splits a `SUBGRAPH_URLS` value (`url|url|…`) into its URLs. */
export function splitUrls(spec: string): string[] {
  return spec
    .split('|')
    .map((u) => u.trim())
    .filter(Boolean);
}

export class UpstreamPool {
  readonly urls: readonly string[];
  private readonly members: Member[];
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;

  constructor(
    readonly name: string,
    spec: string,
    private readonly opts: PoolOptions,
  ) {
    this.urls = splitUrls(spec);
    if (this.urls.length === 0) throw new Error(`subgraph "${name}": no URL`);
    this.members = this.urls.map((url) => ({ url, downUntil: 0, notReady: false }));
    for (const m of this.members) upstreamUp.set({ subgraph: name, url: m.url }, 1);
    if (this.urls.length > 1 && opts.healthPath && opts.healthIntervalMs > 0) {
      this.timer = setInterval(() => void this.checkAll(), opts.healthIntervalMs);
      this.timer.unref();
      void this.checkAll();
    }
  }

  /** Is `url` to be skipped now? */
  isDown(url: string, now = Date.now()): boolean {
    const m = this.members.find((x) => x.url === url);
    return m ? m.notReady || m.downUntil > now : false;
  }

  /** The next URL to use: round-robin over the up ones (all when none is up), skipping `exclude` when possible. */
  pick(exclude: ReadonlySet<string> = new Set()): string {
    const now = Date.now();
    const n = this.members.length;
    const candidates = [
      (m: Member) => !exclude.has(m.url) && !(m.notReady || m.downUntil > now),
      (m: Member) => !exclude.has(m.url),
      () => true,
    ];
    for (const ok of candidates) {
      for (let i = 0; i < n; i++) {
        const m = this.members[(this.next + i) % n] as Member;
        if (ok(m)) {
          this.next = (this.next + i + 1) % n;
          return m.url;
        }
      }
    }
    return this.members[0]!.url;
  }

  /** A connection to `url` was refused: skip it for `downMs`. */
  markDown(url: string): void {
    const m = this.members.find((x) => x.url === url);
    if (!m || this.members.length < 2) return;
    const wasUp = !(m.notReady || m.downUntil > Date.now());
    m.downUntil = Date.now() + this.opts.downMs;
    this.publish(m);
    if (wasUp) this.opts.logger.warn({ subgraph: this.name, url, downMs: this.opts.downMs }, 'subgraph URL refused a connection; skipping it');
  }

  /** Polls every URL's readiness once (also run on a timer). */
  async checkAll(): Promise<void> {
    if (this.checking) return;
    this.checking = true;
    try {
      await Promise.all(this.members.map((m) => this.check(m)));
    } finally {
      this.checking = false;
    }
  }

  private async check(m: Member): Promise<void> {
    let ready = false;
    try {
      const url = new URL(this.opts.healthPath, m.url);
      const res = await fetch(url, { signal: AbortSignal.timeout(Math.max(500, this.opts.healthIntervalMs)) });
      await res.body?.cancel();
      ready = res.ok;
    } catch {
      ready = false;
    }
    if (ready === !m.notReady) return;
    m.notReady = !ready;
    if (ready) m.downUntil = 0;
    this.publish(m);
    this.opts.logger.info({ subgraph: this.name, url: m.url, ready }, ready ? 'subgraph URL ready again' : 'subgraph URL not ready; skipping it');
  }

  private publish(m: Member): void {
    upstreamUp.set({ subgraph: this.name, url: m.url }, m.notReady || m.downUntil > Date.now() ? 0 : 1);
  }

  close(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** The pools of one router, by subgraph name and URL spec (a reloaded supergraph may change URLs). */
export class UpstreamRegistry {
  private readonly pools = new Map<string, UpstreamPool>();

  constructor(private readonly opts: PoolOptions) {}

  get(name: string, spec: string): UpstreamPool {
    const key = `${name}\u0000${spec}`;
    let pool = this.pools.get(key);
    if (!pool) {
      pool = new UpstreamPool(name, spec, this.opts);
      this.pools.set(key, pool);
    }
    return pool;
  }

  close(): void {
    for (const p of this.pools.values()) p.close();
    this.pools.clear();
  }
}
