/**
 * Every `/graphql` request gets an id: the caller's `x-request-id` when it
 * is a sane token (identity.ts `requestIdFrom`), else a fresh UUID. It is
 * answered in the `x-request-id` response header (exposed to pages by
 * cors.ts), logged with the operation (access-log.ts) and sent on to every
 * subgraph fetch, so one request can be followed through every process.
 */
import type express from 'express';
import { requestIdFrom } from '../identity.js';
import { requestLocals } from './context.js';

/** Sets `x-request-id` on the response and in `res.locals` before anything can fail. */
export const requestId: express.RequestHandler = (req, res, next) => {
  const id = requestIdFrom(req.header('x-request-id'));
  res.setHeader('x-request-id', id);
  requestLocals(res).requestId = id;
  next();
};
