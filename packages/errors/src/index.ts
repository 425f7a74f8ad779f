/**
 * The failures the public API names, as plain TypeScript so domain logic can
 * raise them without knowing GraphQL. Each subgraph's server turns a
 * {@link DomainError} into a GraphQL error with `extensions.code` = `code`.
 */

/** Stable error codes of the public API (docs/ARCHITECTURE.md, "Public API"). */
export const ERROR_CODES = [
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'INSUFFICIENT_STOCK',
  'PAYMENT_DECLINED',
  'INVALID_STATE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'SERVICE_UNAVAILABLE',
  'TRY_LATER',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Runs `make` without capturing a stack trace for the errors it creates. A
 * domain error is an answer (sold out, not found, try later), not a bug: its
 * stack says nothing, and capturing it (through source maps under tsx) is
 * among the largest costs of answering it, which in a rush is most answers.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** A failure the caller can act on. `field` names the offending input field. Carries no stack trace (see {@link withoutStack}). */
export class DomainError extends Error {
  readonly code: ErrorCode;
  readonly details: { field?: string; retryAfterSeconds?: number; [key: string]: unknown };

  constructor(code: ErrorCode, message: string, details: { field?: string; retryAfterSeconds?: number; [key: string]: unknown } = {}) {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

/** Shorthands that read like the rule they enforce. */
export const badInput = (field: string, message: string) => new DomainError('BAD_USER_INPUT', `${field}: ${message}`, { field });
export const notFound = (what: string, id: string) => new DomainError('NOT_FOUND', `${what} ${id} not found`, { id });
export const invalidState = (message: string) => new DomainError('INVALID_STATE', message);

/** True for errors carrying one of the public codes. */
export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
