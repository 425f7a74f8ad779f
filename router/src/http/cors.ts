/**
 * CORS on `/graphql`, through the `cors` package, for the origins in
 * `CORS_ORIGINS` only (`*`: any origin).
 *
 * What a browser gets (router.test.ts pins the allowlist and the preflight):
 *
 * - No `Origin`, or one not in the list: no CORS header at all, not even
 *   `Vary`, and the request carries on (same-origin and non-browser callers
 *   are served; a browser refuses the cross-origin answer). An `OPTIONS`
 *   from such an origin is not answered here either: it reaches Apollo
 *   Server like any other request.
 * - An allowed origin: `Access-Control-Allow-Origin` is that origin with
 *   `Vary: Origin`, or `*` without `Vary` when the list is `*`;
 *   `Access-Control-Expose-Headers: x-request-id` (so pages can read the
 *   request id to quote in a bug report).
 * - An `OPTIONS` from an allowed origin is a preflight, answered 204 here
 *   with `Access-Control-Allow-Methods: GET, POST, OPTIONS`, the requested
 *   headers echoed in `Access-Control-Allow-Headers` (or, when none were
 *   asked, the ones the web client and Apollo's CSRF rule use),
 *   `Access-Control-Max-Age: 600` and no body.
 * - Never `Access-Control-Allow-Credentials`: tokens travel in the
 *   `Authorization` header, no cookie is read.
 *
 * The per-request options delegate is what lets `cors` stay silent for
 * unlisted origins: given a list, `cors` would answer them with
 * `Vary: Origin`, and given `*` it would stamp requests without an `Origin`.
 *
 * The one piece kept by hand is the end of a preflight ({@link endPreflight},
 * reached through `preflightContinue`), for two things `cors` cannot be told:
 *
 * - it ends a preflight with `Content-Length: 0`, which a 204 must not carry
 *   (RFC 9110 §8.6) and which this router never sent;
 * - it drops an empty `Access-Control-Allow-Headers`, so a preflight with an
 *   empty `Access-Control-Request-Headers` would lose the (empty) echo the
 *   router has always sent. Both mean "no extra headers" to a browser, but
 *   the answer stays byte-for-byte what it was.
 */
import cors, { type CorsOptions, type CorsOptionsDelegate } from 'cors';
import type express from 'express';

const ALLOW_METHODS = 'GET, POST, OPTIONS';
/** Allowed on a preflight that names no headers: what the web client and Apollo's CSRF prevention send. */
const DEFAULT_ALLOW_HEADERS = 'content-type, authorization, apollo-require-preflight, x-apollo-operation-name, x-request-id';
const EXPOSE_HEADERS = 'x-request-id';
const MAX_AGE_SECONDS = 600;

/** The CORS options for one request; `origin: false` leaves the request untouched. */
function optionsFor(origins: string[]): CorsOptionsDelegate<express.Request> {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  return (req, callback) => {
    const origin = req.header('origin');
    if (!origin || !(any || allowed.has(origin))) {
      callback(null, { origin: false });
      return;
    }
    const options: CorsOptions = {
      // A string is sent as is: the origin itself (with `Vary: Origin`), or `*` (without).
      origin: any ? '*' : origin,
      methods: ALLOW_METHODS,
      // An array, so `cors` never adds `Vary: Access-Control-Request-Headers` (it does when it reflects them itself).
      allowedHeaders: [req.header('access-control-request-headers') ?? DEFAULT_ALLOW_HEADERS],
      exposedHeaders: EXPOSE_HEADERS,
      maxAge: MAX_AGE_SECONDS,
      preflightContinue: true,
    };
    callback(null, options);
  };
}

/** Ends a preflight `cors` has put its headers on: 204, no body, no Content-Length. */
const endPreflight: express.RequestHandler = (req, res, next) => {
  if (req.method === 'OPTIONS' && res.hasHeader('access-control-allow-origin')) {
    if (req.header('access-control-request-headers') === '') res.setHeader('Access-Control-Allow-Headers', '');
    res.status(204).end();
    return;
  }
  next();
};

/** CORS for the configured origins only: the `cors` package plus the end of its preflights. */
export function corsFor(origins: string[]): express.RequestHandler[] {
  return [cors(optionsFor(origins)), endPreflight];
}
