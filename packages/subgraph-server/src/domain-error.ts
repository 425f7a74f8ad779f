/**
 * For tests of domain rules: the DomainError `fn` throws. Fails (with what
 * was thrown instead, or "expected a DomainError" when nothing was) so a
 * table of bad inputs reads as codes and fields, not try/catch.
 */
import { DomainError } from '@rental/errors';

/** The DomainError `fn` throws; anything else (or nothing) fails the test. */
export function thrownDomainError(fn: () => unknown): DomainError {
  try {
    fn();
  } catch (err) {
    if (err instanceof DomainError) return err;
    throw err;
  }
  throw new Error('expected a DomainError');
}
