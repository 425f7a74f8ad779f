/**
 * How failures leave a subgraph: the code a caller sees for each kind of
 * error a resolver may throw.
 */
import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { toGraphQLError } from './errors.js';

/** Node's error for a write to a socket the other side closed, as the MongoDB driver lets it through. */
function brokenSocket(code: string): Error {
  return Object.assign(new Error('This socket has been ended by the other party'), { code });
}

describe('toGraphQLError', () => {
  it('a domain error keeps its code, message and details', () => {
    const err = toGraphQLError(new DomainError('INSUFFICIENT_STOCK', 'only 2 left', { available: 2 }));
    expect(err?.message).toBe('only 2 left');
    expect(err?.extensions).toMatchObject({ code: 'INSUFFICIENT_STOCK', available: 2 });
  });

  it.each([
    ['an unreachable server', Object.assign(new Error('connect ECONNREFUSED'), { name: 'MongoServerSelectionError' })],
    ['FerretDB with its storage down', Object.assign(new Error('internal'), { name: 'MongoServerError', code: 1 })],
    ['a connection closed under a write (EPIPE)', brokenSocket('EPIPE')],
    ['a connection reset (ECONNRESET)', brokenSocket('ECONNRESET')],
  ])('%s is SERVICE_UNAVAILABLE from the database, with a retry hint', (_, cause) => {
    expect(toGraphQLError(cause)?.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', dependency: 'database', retryAfterSeconds: 5 });
  });

  it('any other error is left to the server (an internal error)', () => {
    expect(toGraphQLError(new TypeError('x is undefined'))).toBeUndefined();
    expect(toGraphQLError(Object.assign(new Error('duplicate key'), { name: 'MongoServerError', code: 11000 }))).toBeUndefined();
  });
});
