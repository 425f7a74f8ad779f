/**
 * How failures leave a subgraph: a {@link DomainError} or {@link AuthError}
 * keeps its code and message; anything else is logged and answered as an
 * internal error whose message says nothing about the internals in production.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { AuthError } from '@rental/auth';
import { DomainError } from '@rental/errors';
import type { Logger } from '@rental/observability';

/** Converts a thrown domain or auth error into a GraphQLError with `extensions.code`. */
export function toGraphQLError(err: unknown): GraphQLError | undefined {
  if (err instanceof DomainError) {
    const { field, ...rest } = err.details;
    return new GraphQLError(err.message, { extensions: { code: err.code, ...(field ? { field } : {}), ...rest } });
  }
  if (err instanceof AuthError) return new GraphQLError(err.message, { extensions: { code: err.code } });
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
