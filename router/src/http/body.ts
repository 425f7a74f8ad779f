/**
 * The request body: JSON only, at most `BODY_LIMIT` (`512b`, `100kb`,
 * `1mb`; config.ts checks the syntax). Express's JSON parser enforces it,
 * reading no further than the limit; a body over it, or malformed JSON,
 * becomes an error that errors.ts answers as a GraphQL-shaped 413 or 400.
 * Other content types pass unparsed, for Apollo Server's CSRF prevention to
 * refuse. The WebSocket server applies the same limit to each message
 * (`maxPayload`, from {@link bodyLimitBytes}).
 */
import express from 'express';

/** Parses a JSON body of at most `limit` (the BODY_LIMIT syntax). */
export function jsonBody(limit: string): express.RequestHandler {
  return express.json({ limit });
}

/** `100kb`/`1mb`/`512b` → bytes, as the JSON parser counts them (k = 1024). */
export function bodyLimitBytes(limit: string): number {
  const m = /^(\d+)(b|kb|mb)$/i.exec(limit);
  const unit = m?.[2]?.toLowerCase();
  return Number(m?.[1] ?? 1) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}
