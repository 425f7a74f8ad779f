/**
 * The operation kind of a subgraph fetch, from its text. The gateway prints
 * each fetch as one operation (`query …`, `mutation …`, `subscription …`,
 * or a bare selection set `{ … }`, which is a query).
 */
import type { OperationTypeNode } from 'graphql';
import { parse } from '../subscriptions/graphql.js';

const cache = new Map<string, OperationTypeNode | 'unknown'>();
const CACHE_SIZE = 1000;

export function operationKind(query: string | undefined): OperationTypeNode | 'unknown' {
  if (!query) return 'unknown';
  const hit = cache.get(query);
  if (hit) return hit;
  let kind: OperationTypeNode | 'unknown' = 'unknown';
  try {
    const ops = parse(query, { noLocation: true }).definitions.filter((d) => d.kind === 'OperationDefinition');
    // Several operations in one document: only a document of queries alone counts as a query.
    const kinds = new Set(ops.map((d) => d.operation));
    if (kinds.size === 1) kind = [...kinds][0] as OperationTypeNode;
    else if (kinds.size > 1) kind = kinds.has('mutation' as OperationTypeNode) ? ('mutation' as OperationTypeNode) : 'unknown';
  } catch {
    kind = 'unknown';
  }
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(query, kind);
  return kind;
}

/** True only for a fetch known to be a query: mutations (and anything unrecognised) are never retried. */
export function isRetryable(query: string | undefined): boolean {
  return operationKind(query) === 'query';
}
