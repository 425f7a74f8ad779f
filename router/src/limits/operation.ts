/**
 * Operation limits: depth, aliases, root fields and cost, computed from the
 * parsed operation (fragments expanded) before anything runs. Token count is
 * graphql-js's own `parse(…, { maxTokens })` (see {@link parseOptions}).
 *
 * - depth: the longest chain of nested fields (`{ a { b } }` is 2).
 * - aliases: fields written with an alias, in the whole operation.
 * - root fields: selections of the operation's root type (aliases count).
 * - cost: the estimated number of values in the answer, with the
 *   supergraph's `@cost` and `@listSize` (cost.ts); a refusal names the
 *   costliest path (`extensions.costliestPath`).
 * - Introspection fields (`__schema`, `__type`) are not counted (introspection
 *   is off in production).
 *
 * A violation is a GraphQL error with code `BAD_USER_INPUT` (HTTP 400) and
 * `extensions.limit` (`MAX_DEPTH`, …), `extensions.max`, `extensions.actual`:
 * the operation the caller sent is the input that is too big.
 */
import type {
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError as GraphQLErrorType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
} from 'graphql';
import { GraphQLError } from '../subscriptions/graphql.js';
import { estimateCost, type CostDirectives } from './cost.js';

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxRootFields: number;
  maxTokens: number;
  maxCost: number;
  defaultListSize: number;
}

export type LimitName = 'MAX_DEPTH' | 'MAX_ALIASES' | 'MAX_ROOT_FIELDS' | 'MAX_TOKENS' | 'MAX_COST';

export const LIMIT_CODE = 'BAD_USER_INPUT';

/** A limit violation as a GraphQL error (code BAD_USER_INPUT, HTTP 400). */
export function limitError(
  limit: LimitName,
  max: number,
  actual: number | undefined,
  message: string,
  extra: Record<string, unknown> = {},
): GraphQLErrorType {
  return new GraphQLError(message, {
    extensions: { code: LIMIT_CODE, limit, max, ...(actual !== undefined ? { actual } : {}), ...extra, http: { status: 400 } },
  });
}

/** graphql-js's message for an operation over `maxTokens`. */
export const TOO_MANY_TOKENS = /Document contains more tha[nt] (\d+) tokens/;

export function parseOptions(limits: OperationLimits) {
  return { maxTokens: limits.maxTokens };
}

interface Shape {
  depth: number;
  aliases: number;
  rootFields: number;
}

function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const map = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === 'FragmentDefinition') map.set(d.name.value, d);
  return map;
}

/** Depth, aliases and root fields of one operation (fragment cycles are cut; validation reports them). */
export function shapeOf(document: DocumentNode, operation: OperationDefinitionNode): Shape {
  const fragments = fragmentsOf(document);
  let aliases = 0;
  let rootFields = 0;
  // Counted per expansion: a fragment spread twice counts twice (it is executed twice).
  const walk = (set: SelectionSetNode, depth: number, visiting: Set<string>, root: boolean): number => {
    let deepest = depth;
    for (const sel of set.selections) {
      if (sel.kind === 'Field') {
        if (sel.name.value.startsWith('__')) continue;
        if (sel.alias) aliases += 1;
        if (root) rootFields += 1;
        const d = sel.selectionSet ? walk(sel.selectionSet, depth + 1, visiting, false) : depth + 1;
        deepest = Math.max(deepest, d);
      } else if (sel.kind === 'InlineFragment') {
        deepest = Math.max(deepest, walk(sel.selectionSet, depth, visiting, root));
      } else {
        const name = sel.name.value;
        const fragment = fragments.get(name);
        if (!fragment || visiting.has(name)) continue;
        visiting.add(name);
        deepest = Math.max(deepest, walk(fragment.selectionSet, depth, visiting, root));
        visiting.delete(name);
      }
      // A pathological document can make the walk large; stop once a limit is clearly blown.
      if (aliases > 100_000 || rootFields > 100_000) break;
    }
    return deepest;
  };
  const depth = walk(operation.selectionSet, 0, new Set(), true);
  return { depth, aliases, rootFields };
}

/** The first shape limit the operation breaks, as an error; undefined when within limits. */
export function checkShape(document: DocumentNode, operation: OperationDefinitionNode, limits: OperationLimits): GraphQLErrorType | undefined {
  const { depth, aliases, rootFields } = shapeOf(document, operation);
  if (depth > limits.maxDepth) {
    return limitError('MAX_DEPTH', limits.maxDepth, depth, `Operation is nested ${depth} levels deep; the limit is ${limits.maxDepth}`);
  }
  if (aliases > limits.maxAliases) {
    return limitError('MAX_ALIASES', limits.maxAliases, aliases, `Operation uses ${aliases} aliases; the limit is ${limits.maxAliases}`);
  }
  if (rootFields > limits.maxRootFields) {
    return limitError('MAX_ROOT_FIELDS', limits.maxRootFields, rootFields, `Operation selects ${rootFields} root fields; the limit is ${limits.maxRootFields}`);
  }
  return undefined;
}

/** A validation rule applying {@link checkShape} to every operation of the document. */
export function shapeRule(limits: OperationLimits) {
  return (context: ValidationContext) => ({
    Document(node: DocumentNode) {
      for (const d of node.definitions) {
        if (d.kind !== 'OperationDefinition') continue;
        const err = checkShape(node, d, limits);
        if (err) {
          context.reportError(err);
          break;
        }
      }
      return false;
    },
  });
}

/**
 * The cost check: `error` when an operation is over `maxCost` (naming its
 * costliest path), and whether the verdict holds for any variables (no
 * variable's value went into the estimate), so a caller that caches the
 * operation may cache the verdict with it.
 */
export function costVerdict(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: OperationLimits,
  directives: CostDirectives,
): { error: GraphQLErrorType | undefined; anyVariables: boolean } {
  const estimate = estimateCost(schema, document, operation, variables, {
    directives,
    defaultListSize: limits.defaultListSize,
    cap: limits.maxCost * 10,
  });
  const anyVariables = !estimate.readVariables;
  if (estimate.cost <= limits.maxCost) return { error: undefined, anyVariables };
  const where = estimate.costliestPath ? `; most of it is ${estimate.costliestPath} (${estimate.costliestPathCost})` : '';
  const error = limitError(
    'MAX_COST',
    limits.maxCost,
    estimate.cost,
    `Operation's estimated cost is ${estimate.cost}; the limit is ${limits.maxCost}${where} (ask for smaller pages or fewer nested lists)`,
    estimate.costliestPath ? { costliestPath: estimate.costliestPath } : {},
  );
  return { error, anyVariables };
}
