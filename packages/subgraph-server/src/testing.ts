/**
 * Test support for subgraph tests: one GraphQL call straight to a subgraph's
 * port with a signed identity, as the router (or, for role SERVICE, another
 * service) would make it; and a keep-alive client (keep-alive-client.ts).
 * Not part of the runtime API (`@rental/subgraph-server/testing`).
 */
import { IDENTITY_HEADER, signInternalIdentity, type Identity } from '@rental/auth';

export { KeepAliveClient, type KeepAliveResponse } from './keep-alive-client.js';
export { eventually } from './eventually.js';
export { thrownDomainError } from './domain-error.js';

/** A subgraph's answer with its HTTP status. */
export interface SubgraphResponse<T = Record<string, unknown>> {
  status: number;
  data?: T | null;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, unknown> }>;
}

/**
 * POSTs `query` to `url` as `identity` (null: no identity header at all, as a
 * caller bypassing the router would). A SERVICE identity is signed with its own
 * name as issuer, any other with `router`. `extraHeaders`: e.g. the caller's
 * deadline (`x-rental-timeout-ms`).
 */
export async function callSubgraph<T = Record<string, unknown>>(
  url: string,
  secret: string,
  query: string,
  variables: Record<string, unknown> | undefined,
  identity: Identity | null,
  extraHeaders: Record<string, string> = {},
): Promise<SubgraphResponse<T>> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extraHeaders };
  if (identity) headers[IDENTITY_HEADER] = await signInternalIdentity(identity, secret, identity.role === 'SERVICE' ? identity.sub : 'router');
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = (await res.json()) as Omit<SubgraphResponse<T>, 'status'>;
  return { status: res.status, ...body };
}
