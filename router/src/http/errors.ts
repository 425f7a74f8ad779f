/**
 * What the router answers when a request never reaches a GraphQL operation:
 * every such answer is a GraphQL-shaped body (`{ errors: [{ message,
 * extensions: { code } }] }`, no `data`), never an HTML page or a stack.
 *
 * - An unknown path: 404 `NOT_FOUND`.
 * - A body Express could not read (body.ts): malformed JSON 400, too large
 *   413, any other 4xx from the parser its own status; all `BAD_REQUEST`,
 *   counted in `graphql_errors_total`.
 * - Anything else thrown in a middleware: 500 `INTERNAL_SERVER_ERROR`,
 *   logged with the error; the client learns nothing more.
 * - Once headers are sent, Express's own handler closes the connection.
 *
 * GraphQL errors of operations are formatted elsewhere (../errors.ts).
 */
import type express from 'express';
import type { Logger } from '@rental/observability';
import { SERVICE, errorCounter } from '../metrics.js';

/** The body of every error answered outside a GraphQL operation. */
export function graphqlErrorBody(message: string, code: string) {
  return { errors: [{ message, extensions: { code } }] };
}

/** 404 for any path but `/graphql`, `/healthz`, `/readyz` and `/metrics`. */
export const notFound: express.RequestHandler = (_req, res) => {
  res.status(404).json(graphqlErrorBody('Not found: the GraphQL endpoint is /graphql', 'NOT_FOUND'));
};

/** The `type` body-parser gives its errors (`http-errors`' `status` beside it). */
interface HttpError {
  status?: number;
  type?: string;
}

function clientErrorMessage(err: HttpError, bodyLimit: string): string {
  if (err.type === 'entity.too.large') return `Request body larger than ${bodyLimit}`;
  if (err.type === 'entity.parse.failed') return 'Malformed JSON in request body';
  return 'Bad request';
}

/** Express's error handler: 4xx from the body parser as BAD_REQUEST, the rest a logged 500. */
export function httpErrors(bodyLimit: string, logger: Logger): express.ErrorRequestHandler {
  return (err: unknown, _req, res, next) => {
    if (res.headersSent) return next(err);
    const status = (err as HttpError).status ?? 500;
    if (status >= 400 && status < 500) {
      errorCounter.inc({ service: SERVICE, code: 'BAD_REQUEST' });
      res.status(status).json(graphqlErrorBody(clientErrorMessage(err as HttpError, bodyLimit), 'BAD_REQUEST'));
      return;
    }
    logger.error({ err }, 'unhandled http error');
    res.status(500).json(graphqlErrorBody('Internal server error', 'INTERNAL_SERVER_ERROR'));
  };
}
