/**
 * Demand control: an operation's estimated cost, from the operation and the
 * supergraph alone, before anything runs. The estimate is the number of
 * values the answer holds at most: every field costs 1 (or its `@cost`), and
 * what is selected under a list counts once per element it is assumed to
 * have.
 *
 * Weights (`@cost(weight:)`, Federation 2.9's cost spec, read from the
 * supergraph by {@link CostDirectives}):
 * - a field costs the `@cost` on its definition, else the `@cost` on the type
 *   it returns (object, scalar or enum), else 1;
 * - an argument with `@cost` on its definition adds its weight when given.
 *
 * List sizes, per field:
 * 1. `@listSize(slicingArguments:)`: the first of those arguments the
 *    operation gives (a literal or a variable), else the largest default
 *    any of them declares, else `assumedSize`, else the default list size.
 * 2. else `@listSize(assumedSize:)`.
 * 3. else, when the field takes `first`, `last` or `limit`: the given value,
 *    else that argument's default, else the default list size.
 * 4. else, for a list-typed field, the default list size
 *    (`COST_DEFAULT_LIST_SIZE`).
 * A list-typed field multiplies its own selection by its size. A field that
 * is not a list but has a slicing size is a page (a connection): its size
 * applies to its `@listSize(sizedFields:)`, or without them to each list it
 * selects directly (`edges`, `nodes`), and its other fields (`totalCount`,
 * `pageInfo`) count once.
 *
 * Introspection fields (`__schema`, `__type`, `__typename`) are not counted.
 * Unknown fields (validation reports them) cost 1. A fragment spread counts
 * every time it is spread; a fragment cycle is cut (validation reports it).
 * The walk stops counting once it passes `cap`, so a huge operation costs
 * little to refuse.
 */
import type {
  DefinitionNode,
  TypeDefinitionNode,
  TypeExtensionNode,
  DirectiveNode,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLNamedType,
  GraphQLSchema,
  OperationDefinitionNode,
  SelectionSetNode,
  ValueNode,
} from 'graphql';
import { Kind, isTypeDefinitionNode, isTypeExtensionNode, parse } from '../subscriptions/graphql.js';
import { argumentOf, linkedDirectiveNames } from '../linked-directives.js';

/** `@listSize` on one field definition. */
export interface ListSize {
  assumedSize?: number;
  slicingArguments?: string[];
  sizedFields?: string[];
}

/** The arguments that size a list when no `@listSize` says otherwise. */
export const DEFAULT_SLICING_ARGUMENTS = ['first', 'last', 'limit'] as const;

/** The cost spec's link; a supergraph may rename its directives with `as:` or `import: [{ name, as }]`. */
const COST_SPEC = /^https:\/\/specs\.apollo\.dev\/cost\/v0\.\d+$/;

/**
 * The `@cost` and `@listSize` applications of one supergraph, by type and
 * field. Built once per supergraph (the router rebuilds it on every load).
 */
export class CostDirectives {
  private readonly typeWeights = new Map<string, number>();
  private readonly fieldWeights = new Map<string, number>();
  private readonly argumentWeights = new Map<string, number>();
  private readonly listSizes = new Map<string, ListSize>();

  /** No directives: every field costs 1 and lists use the default sizes. */
  static readonly none = new CostDirectives();

  /** Reads a supergraph's SDL; a document that does not parse yields {@link CostDirectives.none}. */
  static fromSupergraph(supergraphSdl: string): CostDirectives {
    let document: DocumentNode;
    try {
      document = parse(supergraphSdl, { noLocation: true });
    } catch {
      return CostDirectives.none;
    }
    return new CostDirectives(document);
  }

  private constructor(document?: DocumentNode) {
    if (!document) return;
    const names = linkedDirectiveNames(document, { url: COST_SPEC, name: 'cost' }, ['cost', 'listSize']);
    for (const def of document.definitions) {
      if (!isTypeDefinition(def)) continue;
      const typeName = def.name.value;
      const typeWeight = weightOf(def.directives, names.cost);
      if (typeWeight !== undefined) this.typeWeights.set(typeName, typeWeight);
      const fields = 'fields' in def ? (def.fields ?? []) : [];
      for (const field of fields) {
        const key = `${typeName}.${field.name.value}`;
        const weight = weightOf(field.directives, names.cost);
        if (weight !== undefined) this.fieldWeights.set(key, weight);
        const listSize = listSizeOf(field.directives, names.listSize);
        if (listSize) this.listSizes.set(key, listSize);
        for (const arg of 'arguments' in field ? (field.arguments ?? []) : []) {
          const argWeight = weightOf(arg.directives, names.cost);
          if (argWeight !== undefined) this.argumentWeights.set(`${key}(${arg.name.value})`, argWeight);
        }
      }
    }
  }

  typeWeight(type: string): number | undefined {
    return this.typeWeights.get(type);
  }

  fieldWeight(type: string, field: string): number | undefined {
    return this.fieldWeights.get(`${type}.${field}`);
  }

  argumentWeight(type: string, field: string, argument: string): number | undefined {
    return this.argumentWeights.get(`${type}.${field}(${argument})`);
  }

  listSize(type: string, field: string): ListSize | undefined {
    return this.listSizes.get(`${type}.${field}`);
  }
}

/** Type definitions and extensions: where `@cost` and `@listSize` can be applied. */
function isTypeDefinition(def: DefinitionNode): def is TypeDefinitionNode | TypeExtensionNode {
  return isTypeDefinitionNode(def) || isTypeExtensionNode(def);
}

/** The names `@cost` and `@listSize` go by in this document (spec defaults when it has no cost link). */
function weightOf(directives: readonly DirectiveNode[] | undefined, name: string): number | undefined {
  const cost = directives?.find((d) => d.name.value === name);
  const weight = cost ? argumentOf(cost, 'weight') : undefined;
  return weight?.kind === Kind.INT ? Number(weight.value) : undefined;
}

function listSizeOf(directives: readonly DirectiveNode[] | undefined, name: string): ListSize | undefined {
  const directive = directives?.find((d) => d.name.value === name);
  if (!directive) return undefined;
  const assumed = argumentOf(directive, 'assumedSize');
  const strings = (arg: string) => {
    const v = argumentOf(directive, arg);
    return v?.kind === Kind.LIST ? v.values.flatMap((s) => (s.kind === Kind.STRING ? [s.value] : [])) : undefined;
  };
  const slicingArguments = strings('slicingArguments');
  const sizedFields = strings('sizedFields');
  return {
    ...(assumed?.kind === Kind.INT ? { assumedSize: Number(assumed.value) } : {}),
    ...(slicingArguments ? { slicingArguments } : {}),
    ...(sizedFields ? { sizedFields } : {}),
  };
}

/** An operation's estimate, and where most of it comes from. */
export interface CostEstimate {
  cost: number;
  /**
   * Where most of the cost is: the response path (aliases as written) from
   * the costliest root field down through each costliest child that carries
   * more than half of its parent's cost, e.g. `products.categories.subCategories`.
   */
  costliestPath: string;
  /** What the field at the end of that path adds to the total, every list above it multiplied in. */
  costliestPathCost: number;
  /** Whether a variable's value went into the estimate (a slicing argument given as a variable); if not, it holds for any variables. */
  readVariables: boolean;
}

/** What {@link estimateCost} needs besides the operation. */
export interface CostOptions {
  directives: CostDirectives;
  defaultListSize: number;
  /** Counting stops once the total passes this. */
  cap?: number;
}

interface Subtotal {
  total: number;
  /** The costliest field of this selection (its `cost`), and the chain below it that carries most of that cost. */
  top?: { cost: number; path: string[]; endCost: number };
}

/** The size a parent page hands to the lists it selects. */
interface PageSize {
  size: number;
  /** Only these children take the size; undefined: every list-typed child. */
  sizedFields?: readonly string[];
}

/** The estimated cost of one operation of `document` (see the module comment). */
export function estimateCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
  options: CostOptions,
): CostEstimate {
  const estimator = new Estimator(schema, document, variables, options);
  const rootType =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const { total, top } = estimator.selection(operation.selectionSet, rootType ?? undefined, undefined, new Set());
  return { cost: total, costliestPath: top?.path.join('.') ?? '', costliestPathCost: top?.endCost ?? 0, readVariables: estimator.readVariables };
}

/** One walk over one operation. */
class Estimator {
  private readonly fragments = new Map<string, FragmentDefinitionNode>();
  private readonly cap: number;
  private total = 0;
  /** Set when a variable's value was used (see {@link CostEstimate.readVariables}). */
  readVariables = false;

  constructor(
    private readonly schema: GraphQLSchema,
    document: DocumentNode,
    private readonly variables: Record<string, unknown>,
    private readonly options: CostOptions,
  ) {
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) this.fragments.set(d.name.value, d);
    this.cap = options.cap ?? Number.MAX_SAFE_INTEGER;
  }

  /** A selection set's cost, with its fragments merged in. */
  selection(set: SelectionSetNode, parent: GraphQLNamedType | undefined, page: PageSize | undefined, visiting: Set<string>): Subtotal {
    const result: Subtotal = { total: 0 };
    const add = (part: Subtotal) => {
      result.total += part.total;
      if (part.top && (!result.top || part.top.cost > result.top.cost)) result.top = part.top;
    };
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (!sel.name.value.startsWith('__')) add(this.field(sel, parent, page, visiting));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const type = sel.typeCondition ? this.schema.getType(sel.typeCondition.name.value) : parent;
        add(this.selection(sel.selectionSet, type ?? parent, page, visiting));
      } else {
        const fragment = this.fragments.get(sel.name.value);
        if (!fragment || visiting.has(sel.name.value)) continue;
        visiting.add(sel.name.value);
        add(this.selection(fragment.selectionSet, this.schema.getType(fragment.typeCondition.name.value) ?? parent, page, visiting));
        visiting.delete(sel.name.value);
      }
      if (this.total > this.cap) break;
    }
    return result;
  }

  private field(node: FieldNode, parent: GraphQLNamedType | undefined, page: PageSize | undefined, visiting: Set<string>): Subtotal {
    const typeName = parent?.name ?? '';
    const name = node.name.value;
    const definition = fieldOf(parent, name);
    const { named, list } = definition ? unwrap(definition.type) : { named: undefined, list: false };
    const { directives, defaultListSize } = this.options;
    let weight = directives.fieldWeight(typeName, name) ?? (named ? directives.typeWeight(named.name) : undefined) ?? 1;
    for (const arg of node.arguments ?? []) weight += directives.argumentWeight(typeName, name, arg.name.value) ?? 0;
    this.total += weight;

    const listSize = directives.listSize(typeName, name);
    const slice = this.sliceOf(node, definition, listSize);
    const fromPage = page && list && (!page.sizedFields || page.sizedFields.includes(name)) ? page.size : undefined;
    const multiplier = list ? (slice ?? listSize?.assumedSize ?? fromPage ?? defaultListSize) : 1;
    // A page (not a list itself, but sliced) sizes the lists it selects.
    const childPage = !list && slice !== undefined ? { size: slice, ...(listSize?.sizedFields ? { sizedFields: listSize.sizedFields } : {}) } : undefined;
    if (!node.selectionSet) return { total: weight };

    const before = this.total;
    const children = this.selection(node.selectionSet, named, childPage, visiting);
    // The walk counted the children once; a list counts them once per element.
    this.total = before + multiplier * (this.total - before);
    const total = weight + multiplier * children.total;
    const key = node.alias?.value ?? name;
    // The chain goes on into the costliest child while that child carries most of this field's cost.
    const below = children.top;
    if (below && multiplier * below.cost * 2 > total) {
      return { total, top: { cost: total, path: [key, ...below.path], endCost: multiplier * below.endCost } };
    }
    return { total, top: { cost: total, path: [key], endCost: total } };
  }

  /** The size the operation asks of a sliced field (rules 1 and 3 of the module comment); undefined when it is not sliced. */
  private sliceOf(node: FieldNode, definition: GraphQLField<unknown, unknown> | undefined, listSize: ListSize | undefined): number | undefined {
    const declared = new Set((definition?.args ?? []).map((a) => a.name));
    const names = listSize?.slicingArguments ?? DEFAULT_SLICING_ARGUMENTS.filter((a) => declared.has(a));
    if (names.length === 0) return undefined;
    for (const argName of names) {
      const value = node.arguments?.find((a) => a.name.value === argName)?.value;
      if (value?.kind === Kind.VARIABLE) this.readVariables = true;
      const given = intValue(value, this.variables);
      if (given !== undefined) return Math.max(0, given);
    }
    const defaults = (definition?.args ?? [])
      .filter((a) => names.includes(a.name) && typeof a.defaultValue === 'number')
      .map((a) => a.defaultValue as number);
    if (defaults.length > 0) return Math.max(0, ...defaults);
    return listSize?.assumedSize ?? this.options.defaultListSize;
  }
}

function unwrap(type: unknown): { named: GraphQLNamedType; list: boolean } {
  let t = type as { ofType?: unknown };
  let list = false;
  // Realm-independent: a wrapper has `ofType`; a list's Symbol.toStringTag is
  // `GraphQLList` (graphql 16; cheaper than printing the type, which showed in profiles).
  while (t.ofType) {
    if ((t as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'GraphQLList') list = true;
    t = t.ofType;
  }
  return { named: t as unknown as GraphQLNamedType, list };
}

function intValue(node: ValueNode | undefined, variables: Record<string, unknown>): number | undefined {
  if (!node) return undefined;
  if (node.kind === Kind.INT) return Number(node.value);
  if (node.kind === Kind.VARIABLE) {
    const v = variables[node.name.value];
    return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  }
  return undefined;
}

function fieldOf(type: GraphQLNamedType | undefined, name: string): GraphQLField<unknown, unknown> | undefined {
  const fields = (type as { getFields?: () => Record<string, GraphQLField<unknown, unknown>> } | undefined)?.getFields?.();
  return fields?.[name];
}
