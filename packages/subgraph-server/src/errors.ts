/**
 * How failures leave a subgraph: a {@link DomainError} or {@link AuthError}
 * keeps its code and message; a database that cannot serve (unreachable,
 * or its storage down) is `SERVICE_UNAVAILABLE`; anything else is logged and
 * answered as an internal error whose message says nothing about the
 * internals in production.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AuthError } from '@rental/auth';
import { DomainError, withoutStack } from '@rental/errors';
import type { Logger } from '@rental/observability';

/** The driver's names for "the server could not be reached or answer in time". */
const UNREACHABLE = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongooseServerSelectionError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
  'MongoPoolClearedError',
]);

/**
 * True when the database could not serve: unreachable (above), or a server
 * error with code 1 (`InternalError`), which is what FerretDB answers when
 * its storage (PostgreSQL) is down or restarting. A caller may try again
 * later; whether a write that failed this way took effect is unknown.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.name === 'string' && UNREACHABLE.has(e.name)) return true;
  if (typeof e.code === 'string' && BROKEN_SOCKET.has(e.code)) return true;
  return e.name === 'MongoServerError' && e.code === 1;
}

/**
 * Node's socket errors that reach a resolver unwrapped. The MongoDB driver
 * (6.20) lets one through when it writes a command to a connection the
 * server has just closed: `Connection.writeCommand` → `Socket.write` throws
 * `EPIPE` ("This socket has been ended by the other party"), seen when
 * FerretDB was killed mid-rush (test/e2e/db-faults.test.ts). A resolver's
 * other connections (to subgraphs) fail as `DependencyFailure`, so a bare
 * socket error here is the database's.
 */
const BROKEN_SOCKET = new Set(['EPIPE', 'ECONNRESET', 'ECONNREFUSED']);

/**
 * Converts a thrown domain or auth error (or an unavailable database) into a
 * GraphQLError with `extensions.code`; the GraphQLError carries no stack
 * trace either (an answer, not a bug: see `withoutStack`).
 */
export function toGraphQLError(err: unknown): GraphQLError | undefined {
  return withoutStack(() => mapError(err));
}

function mapError(err: unknown): GraphQLError | undefined {
  if (err instanceof DomainError) {
    const { field, ...rest } = err.details;
    return new GraphQLError(err.message, { extensions: { code: err.code, ...(field ? { field } : {}), ...rest } });
  }
  if (err instanceof AuthError) return new GraphQLError(err.message, { extensions: { code: err.code } });
  if (isDatabaseUnavailable(err)) {
    return new GraphQLError('the database is unavailable, try again later', {
      extensions: { code: 'SERVICE_UNAVAILABLE', dependency: 'database', retryAfterSeconds: 5 },
    });
  }
  return undefined;
}

/** Codes Apollo Server itself produces that callers may see as they are. */
const PASS_THROUGH = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

/** Apollo `formatError` hook shared by all subgraphs. */
export function formatError(logger: Logger, production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isDatabaseUnavailable(original)) logger.warn({ err: original, path: formatted.path }, 'database unavailable');
    const mapped = toGraphQLError(original);
    if (mapped) return { ...formatted, message: mapped.message, extensions: { ...mapped.extensions } };
    const code = formatted.extensions?.code;
    if (typeof code === 'string' && (PASS_THROUGH.has(code) || code !== 'INTERNAL_SERVER_ERROR')) {
      const { stacktrace: _s, ...extensions } = formatted.extensions ?? {};
      return { ...formatted, extensions };
    }
    logger.error({ err: original, path: formatted.path }, 'unexpected resolver error');
    return {
      message: production ? 'Internal server error' : formatted.message,
      path: formatted.path,
      locations: formatted.locations,
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    };
  };
}
