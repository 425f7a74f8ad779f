/**
 * The failures the public API names, as plain TypeScript so domain logic can
 * raise them without knowing GraphQL. Each subgraph's server turns a
 * {@link DomainError} into a GraphQL error with `extensions.code` = `code`.
 */

/** Stable error codes of the public API (DESIGN.md). */
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

/** A failure the caller can act on. `field` names the offending input field. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; retryAfterSeconds?: number; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'DomainError';
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
