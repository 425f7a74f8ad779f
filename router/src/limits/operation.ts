/**
 * Operation limits: depth, aliases, root fields and cost, computed from the
 * parsed operation (fragments expanded) before anything runs. Token count is
 * graphql-js's own `parse(…, { maxTokens })` (see {@link parseOptions}).
 *
 * - depth: the longest chain of nested fields (`{ a { b } }` is 2).
 * - aliases: fields written with an alias, in the whole operation.
 * - root fields: selections of the operation's root type (aliases count).
 * - cost: every field costs 1; the fields under a list multiply by its size:
 *   the field's `first` (or `last`) argument when given (a variable counts),
 *   else the argument's default, else `COST_DEFAULT_LIST_SIZE`. A field
 *   that takes `first` is a page (a connection): its children are multiplied
 *   once, and a list right under it (`edges`, `nodes`) is not multiplied
 *   again. Any other list-typed field multiplies by the default list size.
 * - Introspection fields (`__schema`, `__type`) are not counted (introspection
 *   is off in production).
 *
 * A violation is a GraphQL error with code `BAD_USER_INPUT` (HTTP 400) and
 * `extensions.limit` (`MAX_DEPTH`, …), `extensions.max`, `extensions.actual`:
 * the operation the caller sent is the input that is too big.
 */
import type {
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLError as GraphQLErrorType,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValueNode,
} from 'graphql';
import { GraphQLError } from '../subscriptions/graphql.js';

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
export function limitError(limit: LimitName, max: number, actual: number | undefined, message: string): GraphQLErrorType {
  return new GraphQLError(message, {
    extensions: { code: LIMIT_CODE, limit, max, ...(actual !== undefined ? { actual } : {}), http: { status: 400 } },
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

function unwrap(type: unknown): { named: GraphQLNamedType; list: boolean } {
  let t = type as { ofType?: unknown };
  let list = false;
  // Realm-independent: a wrapper has `ofType`; a list prints as `[…]`.
  while (t.ofType) {
    if (String(t).startsWith('[')) list = true;
    t = t.ofType as { ofType?: unknown };
  }
  return { named: t as unknown as GraphQLNamedType, list };
}

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!node) return undefined;
  if (node.kind === 'IntValue') return Number(node.value);
  if (node.kind === 'Variable') {
    const v = variables[node.name.value];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  const fields = (type as { getFields?: () => Record<string, GraphQLField<unknown, unknown>> } | undefined)?.getFields?.();
  return fields?.[name];
}

/**
 * The estimated cost of an operation (see the module comment). Unknown fields
 * (validation reports them) cost 1. Stops counting past `cap`.
 */
export function costOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  defaultListSize: number,
  cap = Number.MAX_SAFE_INTEGER,
): number {
  const fragments = fragmentsOf(document);
  const rootType =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();

  const sizeOf = (node: FieldNode, field: GraphQLField<unknown, unknown> | undefined): number | undefined => {
    const argNames = new Set((field?.args ?? []).map((a) => a.name));
    if (!argNames.has('first') && !argNames.has('last')) return undefined;
    for (const name of ['first', 'last']) {
      const given = intValue(node.arguments?.find((a) => a.name.value === name)?.value, variables);
      if (given !== undefined) return Math.max(0, given);
    }
    const declared = field?.args.find((a) => a.name === 'first')?.defaultValue;
    return typeof declared === 'number' ? declared : defaultListSize;
  };

  const walk = (set: SelectionSetNode, parent: GraphQLNamedType | undefined, underPage: boolean, visiting: Set<string>): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === 'Field') {
        if (sel.name.value.startsWith('__')) continue;
        const field = fieldOf(parent, sel.name.value);
        const { named, list } = field ? unwrap(field.type) : { named: undefined, list: false };
        const page = sizeOf(sel, field);
        const multiplier = page ?? (list && !underPage ? defaultListSize : 1);
        const children = sel.selectionSet ? walk(sel.selectionSet, named, page !== undefined, visiting) : 0;
        total += 1 + multiplier * children;
      } else if (sel.kind === 'InlineFragment') {
        const cond = sel.typeCondition ? schema.getType(sel.typeCondition.name.value) : parent;
        total += walk(sel.selectionSet, cond ?? parent, underPage, visiting);
      } else {
        const fragment = fragments.get(sel.name.value);
        if (!fragment || visiting.has(sel.name.value)) continue;
        visiting.add(sel.name.value);
        total += walk(fragment.selectionSet, schema.getType(fragment.typeCondition.name.value) ?? parent, underPage, visiting);
        visiting.delete(sel.name.value);
      }
      if (total > cap) return total;
    }
    return total;
  };
  return walk(operation.selectionSet, rootType ?? undefined, false, new Set());
}

/** The cost error when an operation is over `maxCost`, else undefined. */
export function checkCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  limits: OperationLimits,
): GraphQLErrorType | undefined {
  const cost = costOf(schema, document, operation, variables, limits.defaultListSize, limits.maxCost * 10);
  if (cost <= limits.maxCost) return undefined;
  return limitError('MAX_COST', limits.maxCost, cost, `Operation's estimated cost is ${cost}; the limit is ${limits.maxCost} (ask for smaller pages or fewer nested lists)`);
}
