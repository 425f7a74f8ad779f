/**
 * The HTTP connections the router keeps open to its subgraphs, and the fetch
 * every subgraph data source sends through.
 *
 * An undici `Agent` (keep-alive pools per origin) answered through
 * `request()`, not the gateway's default fetch: make-fetch-happen with
 * minipass-fetch and @npmcli/agent was about 12% of the router's CPU per
 * request in a profile, and WHATWG `fetch` would add streams the gateway never
 * uses (it reads every subgraph answer whole).
 *
 * Idle sockets close **before the subgraph does**: after
 * `SUBGRAPH_IDLE_TIMEOUT_MS`, or 1 s before the subgraph's announced
 * `Keep-Alive: timeout=N` when that is sooner (undici's
 * `keepAliveTimeoutThreshold`). A request is then never written onto a
 * socket the subgraph is closing, which would fail with a reset and no
 * answer (a mutation is never sent twice, see fetcher.ts). A busy socket is
 * never cut by the idle timeout. No proxy: subgraph calls stay inside the
 * cluster. No time limit of its own: the gateway's request deadline and the
 * subgraph's headers timeout bound a call (`headersTimeout`/`bodyTimeout` off).
 */
import type { Fetcher, FetcherRequestInit, FetcherResponse } from '@apollo/utils.fetcher';
import { Agent, request } from 'undici';

/** A subgraph's answer, read whole: what the gateway needs of a fetch Response. */
class SubgraphResponse implements FetcherResponse {
  readonly redirected = false;
  private used = false;

  constructor(
    readonly url: string,
    readonly status: number,
    readonly headers: Headers,
    private readonly body: string,
  ) {}

  /** undici's header record as fetch `Headers`. */
  static headersOf(raw: Record<string, string | string[] | undefined>): Headers {
    const headers = new Headers();
    for (const [name, value] of Object.entries(raw)) {
      if (Array.isArray(value)) for (const v of value) headers.append(name, v);
      else if (value !== undefined) headers.append(name, value);
    }
    return headers;
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  get statusText(): string {
    return '';
  }

  get bodyUsed(): boolean {
    return this.used;
  }

  async text(): Promise<string> {
    this.used = true;
    return this.body;
  }

  async json(): Promise<unknown> {
    this.used = true;
    return JSON.parse(this.body) as unknown;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.used = true;
    const bytes = Buffer.from(this.body);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  }

  clone(): FetcherResponse {
    return new SubgraphResponse(this.url, this.status, new Headers(this.headers), this.body);
  }
}

export class SubgraphConnections {
  /** The fetch every subgraph data source uses. */
  readonly fetcher: Fetcher;
  private readonly agent: Agent;

  constructor(idleTimeoutMs: number) {
    this.agent = new Agent({
      keepAliveTimeout: idleTimeoutMs,
      keepAliveMaxTimeout: idleTimeoutMs,
      keepAliveTimeoutThreshold: 1_000,
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.fetcher = (url, init) => this.send(url, init);
  }

  private async send(url: string, init: FetcherRequestInit = {}): Promise<FetcherResponse> {
    const { statusCode, headers, body } = await request(url, {
      dispatcher: this.agent,
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers ?? {},
      ...(init.body !== undefined ? { body: init.body } : {}),
      ...(init.signal ? { signal: init.signal as AbortSignal } : {}),
    });
    return new SubgraphResponse(url, statusCode, SubgraphResponse.headersOf(headers), await body.text());
  }

  /** Closes every open socket (on router stop; in-flight requests have drained by then). */
  close(): void {
    void this.agent.destroy().catch(() => undefined);
  }
}
