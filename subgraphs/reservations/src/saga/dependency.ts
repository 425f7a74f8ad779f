/**
 * Calls to another subgraph's internal API: GraphQL over HTTP with a service
 * identity, a timeout per attempt, retries with exponential backoff and
 * jitter, and one opossum circuit breaker per dependency.
 *
 * Every call the saga makes is idempotent per reservation id, so retrying is
 * safe; what is retried is what may be transient: a refused connection, a
 * reset, a timeout, HTTP 5xx, an INTERNAL_SERVER_ERROR / SERVICE_UNAVAILABLE
 * answer. A domain answer (INSUFFICIENT_STOCK, NOT_FOUND, BAD_USER_INPUT,
 * INVALID_STATE, …) is the dependency doing its job: it is thrown as a
 * {@link DomainError} at once, never retried, and the breaker's `errorFilter`
 * does not count it as a failure. So is TRY_LATER: the dependency shed the
 * call before doing anything (its admission gate was full), which is not a
 * failure of the dependency, and the caller's own client decides when to
 * come back.
 *
 * Transport: undici's `request` on a keep-alive connection pool per
 * dependency (the global `fetch` builds WHATWG streams, a Response and
 * DOMExceptions per call: a fifth of this service's CPU in a profile).
 *
 * Deadlines: a call made with `deadline` (epoch ms) never waits past it. Each
 * attempt's timeout is the configured one or what is left of the deadline,
 * whichever is shorter, and the dependency is told it in
 * {@link TIMEOUT_HEADER}; no attempt starts once the deadline has passed.
 * An attempt that timed out on a budget our deadline cut short is not held
 * against the dependency's breaker: the time went into our own queue or
 * earlier steps, not into the dependency.
 *
 * Every other failure ends as a {@link DependencyFailure}, which says whether
 * the call may have taken effect (`maybeApplied`: a timeout or a reset after
 * the request was sent) or certainly did not (connection refused, breaker
 * open). The saga compensates only what may have happened.
 */
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';
import { IDENTITY_HEADER, REQUEST_ID_HEADER, type InternalIdentitySigner } from '@rental/auth';
import { TIMEOUT_HEADER } from '@rental/subgraph-server';
import { DomainError, ERROR_CODES, type ErrorCode } from '@rental/errors';
import { prom, metrics, type Logger } from '@rental/observability';

export type DependencyName = 'items' | 'rentals';

/** Why a call failed when the dependency gave no domain answer. */
export type FailureKind = 'open' | 'refused' | 'timeout' | 'deadline' | 'network' | 'http' | 'server-error' | 'bad-response';

/** A call that failed for a reason other than a domain answer. */
export class DependencyFailure extends Error {
  constructor(
    readonly dependency: DependencyName,
    readonly kind: FailureKind,
    /** What went wrong, without the dependency's name. */
    readonly detail: string,
    /** True when an attempt may have reached the dependency and changed something. */
    readonly maybeApplied: boolean,
    readonly retryable: boolean,
    /** A timeout on a budget our own deadline cut short: not the dependency's failure (the breaker ignores it). */
    readonly ourBudget = false,
  ) {
    super(`${dependency}: ${detail}`);
    this.name = 'DependencyFailure';
  }

  /** The public error the caller gets. */
  toDomainError(): DomainError {
    return new DomainError('SERVICE_UNAVAILABLE', `${this.dependency} is unavailable, try again later`, {
      dependency: this.dependency,
      retryAfterSeconds: 5,
    });
  }
}

export interface BreakerSettings {
  /** How long an open breaker waits before letting one trial call through (`BREAKER_RESET_MS`). */
  resetMs: number;
  /** Failure percentage over the rolling window that opens the breaker. */
  errorThresholdPct: number;
  /** Calls in the rolling window before the breaker may open. */
  volumeThreshold: number;
  /** Length of the rolling window. */
  rollingMs: number;
}

export interface DependencyOptions {
  name: DependencyName;
  url: string;
  /** Per attempt. */
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  /** First backoff; doubles per retry, with jitter. */
  backoffMs: number;
  breaker: BreakerSettings;
  signer: InternalIdentitySigner;
  /** The calling service's name, the `sub` of its identity. */
  service: string;
  logger: Logger;
}

export interface CallContext {
  requestId?: string;
  /** When the caller stops waiting (epoch ms): no attempt runs past it. */
  deadline?: number;
}

/** Breaker state for metrics: 0 closed, 1 half-open, 2 open. */
export type BreakerState = 'closed' | 'half-open' | 'open';
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

const breakerGauge = new prom.Gauge({
  name: 'dependency_circuit_state',
  help: 'Circuit breaker state per dependency: 0 closed, 1 half-open, 2 open',
  labelNames: ['service', 'dependency'] as const,
  registers: [metrics],
});

const callCounter = new prom.Counter({
  name: 'dependency_calls_total',
  help: 'Attempts of calls to other subgraphs, by outcome (ok, domain error code, or failure kind)',
  labelNames: ['service', 'dependency', 'operation', 'outcome'] as const,
  registers: [metrics],
});

/** Codes a dependency may answer that are its considered answer (TRY_LATER included: it shed the call, did nothing). */
const DOMAIN_ANSWERS = new Set<ErrorCode>(ERROR_CODES.filter((c) => c !== 'SERVICE_UNAVAILABLE' && c !== 'UNAUTHENTICATED' && c !== 'FORBIDDEN'));

interface GraphQLBody<T> {
  data?: T | null;
  errors?: Array<{ message?: string; extensions?: { code?: unknown; field?: unknown } }>;
}

/** The attempt's AbortSignal fired (its timeout): undici rejects with the signal's reason or its own abort error. */
function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** One dependency (items or rentals) as the saga calls it. */
export class DependencyClient {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly opts: DependencyOptions;
  private readonly pool: Pool;
  private readonly path: string;

  constructor(opts: DependencyOptions) {
    this.opts = opts;
    const url = new URL(opts.url);
    this.pool = new Pool(url.origin);
    this.path = `${url.pathname}${url.search}`;
    this.breaker = new CircuitBreaker((attempt: () => Promise<unknown>) => attempt(), {
      // The attempt carries its own timeout (AbortSignal), which also cancels the request.
      timeout: false,
      resetTimeout: opts.breaker.resetMs,
      errorThresholdPercentage: opts.breaker.errorThresholdPct,
      volumeThreshold: opts.breaker.volumeThreshold,
      rollingCountTimeout: opts.breaker.rollingMs,
      rollingCountBuckets: 10,
      name: opts.name,
      // A domain answer is a healthy dependency, and a timeout our own deadline cut short is ours: not breaker failures.
      errorFilter: (err: unknown) => err instanceof DomainError || (err instanceof DependencyFailure && err.ourBudget),
    });
    const label = { service: opts.service, dependency: opts.name };
    breakerGauge.set(label, 0);
    this.breaker.on('open', () => {
      breakerGauge.set(label, STATE_VALUE.open);
      opts.logger.warn({ dependency: opts.name }, 'circuit breaker opened');
    });
    this.breaker.on('halfOpen', () => {
      breakerGauge.set(label, STATE_VALUE['half-open']);
      opts.logger.info({ dependency: opts.name }, 'circuit breaker half-open: trying one call');
    });
    this.breaker.on('close', () => {
      breakerGauge.set(label, STATE_VALUE.closed);
      opts.logger.info({ dependency: opts.name }, 'circuit breaker closed');
    });
  }

  get name(): DependencyName {
    return this.opts.name;
  }

  /** The breaker's state now (also exported as the `dependency_circuit_state` gauge). */
  get state(): BreakerState {
    if (this.breaker.opened) return 'open';
    if (this.breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /**
   * Runs one GraphQL operation with retries. Resolves to `data`; rejects with
   * the dependency's {@link DomainError} or a {@link DependencyFailure}.
   */
  async request<T>(operation: string, query: string, variables: Record<string, unknown>, ctx: CallContext = {}): Promise<T> {
    let maybeApplied = false;
    for (let attempt = 0; ; attempt += 1) {
      if (ctx.deadline !== undefined && ctx.deadline - Date.now() <= 0) {
        // Not sent: nothing to compensate for this attempt.
        throw new DependencyFailure(this.opts.name, 'deadline', 'no time left before the request deadline', maybeApplied, false);
      }
      try {
        const data = (await this.breaker.fire(() => this.attemptOnce<T>(operation, query, variables, ctx))) as T;
        callCounter.inc({ service: this.opts.service, dependency: this.opts.name, operation, outcome: 'ok' });
        return data;
      } catch (raw) {
        if (raw instanceof DomainError) {
          callCounter.inc({ service: this.opts.service, dependency: this.opts.name, operation, outcome: raw.code });
          throw raw;
        }
        const failure = this.classify(raw);
        callCounter.inc({ service: this.opts.service, dependency: this.opts.name, operation, outcome: failure.kind });
        maybeApplied ||= failure.maybeApplied;
        const last = attempt >= this.opts.retries || !failure.retryable;
        this.opts.logger.warn(
          { dependency: this.opts.name, operation, attempt: attempt + 1, kind: failure.kind, err: failure.detail, willRetry: !last },
          'dependency call failed',
        );
        if (last) {
          throw new DependencyFailure(this.opts.name, failure.kind, failure.detail, maybeApplied, failure.retryable, failure.ourBudget);
        }
        // Exponential backoff with jitter: base × 2^attempt × [0.5, 1).
        await sleep(this.opts.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2));
      }
    }
  }

  /** Stops the breaker's timers and closes the connections. */
  shutdown(): void {
    this.breaker.shutdown();
    this.pool.close().catch(() => undefined);
  }

  private async attemptOnce<T>(operation: string, query: string, variables: Record<string, unknown>, ctx: CallContext): Promise<T> {
    const left = ctx.deadline === undefined ? Infinity : ctx.deadline - Date.now();
    const timeoutMs = Math.max(1, Math.floor(Math.min(this.opts.timeoutMs, left)));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      [IDENTITY_HEADER]: await this.opts.signer.sign({ sub: this.opts.service, role: 'SERVICE' }),
      [TIMEOUT_HEADER]: String(timeoutMs),
    };
    if (ctx.requestId) headers[REQUEST_ID_HEADER] = ctx.requestId;
    let status: number;
    let body: GraphQLBody<T>;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body: JSON.stringify({ operationName: operation, query, variables }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = res.statusCode;
      try {
        body = (await res.body.json()) as GraphQLBody<T>;
      } catch (err) {
        if (isAbort(err)) throw err;
        if (status >= 500) throw new DependencyFailure(this.opts.name, 'http', `HTTP ${status}`, true, true);
        throw new DependencyFailure(this.opts.name, 'bad-response', `HTTP ${status} without a JSON body`, false, false);
      }
    } catch (err) {
      if (isAbort(err) && timeoutMs < this.opts.timeoutMs) {
        throw new DependencyFailure(this.opts.name, 'timeout', `no answer within ${timeoutMs} ms (the rest of the request's deadline)`, true, false, true);
      }
      throw err;
    }
    const first = body.errors?.[0];
    if (first) {
      const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
      const message = first.message ?? code;
      if (DOMAIN_ANSWERS.has(code as ErrorCode)) {
        const field = typeof first.extensions?.field === 'string' ? first.extensions.field : undefined;
        throw new DomainError(code as ErrorCode, message, { ...(field ? { field } : {}), dependency: this.opts.name });
      }
      if (code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' || code === 'GRAPHQL_VALIDATION_FAILED' || code === 'GRAPHQL_PARSE_FAILED') {
        // Our identity or our query is wrong: no retry will fix it.
        throw new DependencyFailure(this.opts.name, 'bad-response', `${code}: ${message}`, false, false);
      }
      // INTERNAL_SERVER_ERROR, SERVICE_UNAVAILABLE, TRY_LATER, …: maybe transient.
      throw new DependencyFailure(this.opts.name, 'server-error', `${code}: ${message}`, true, true);
    }
    if (status >= 500) throw new DependencyFailure(this.opts.name, 'http', `HTTP ${status}`, true, true);
    if (status >= 300 || body.data === undefined || body.data === null) {
      throw new DependencyFailure(this.opts.name, 'bad-response', `HTTP ${status} without data`, false, false);
    }
    return body.data;
  }

  /** Turns whatever an attempt threw into a failure description. */
  private classify(err: unknown): DependencyFailure {
    if (err instanceof DependencyFailure) return err;
    const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.code === 'EOPENBREAKER') {
      return new DependencyFailure(this.opts.name, 'open', 'circuit breaker is open', false, false);
    }
    if (isAbort(err)) {
      return new DependencyFailure(this.opts.name, 'timeout', `no answer within ${this.opts.timeoutMs} ms`, true, true);
    }
    const code = e?.code ?? e?.cause?.code;
    if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
      return new DependencyFailure(this.opts.name, 'refused', `connection failed (${code})`, false, true);
    }
    return new DependencyFailure(this.opts.name, 'network', e?.cause?.message ?? e?.message ?? String(err), true, true);
  }
}
