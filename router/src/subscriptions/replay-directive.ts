/**
 * `@replayAfter`: how a subgraph tells the router that a subscription
 * field's stream is an ordered log after a position its client gives, so
 * that identical subscriptions may share one upstream stream and a late
 * joiner may be handed what that stream delivered (shared-upstream.ts).
 *
 * In a subgraph schema:
 *
 *     extend schema
 *       @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@composeDirective"])
 *       @link(url: "https://rental.example/specs/replay/v0.1", import: ["@replayAfter"])
 *       @composeDirective(name: "@replayAfter")
 *     directive @replayAfter on ARGUMENT_DEFINITION
 *     type Subscription { reservationStatus(reservationId: ID, sinceVersion: Int @replayAfter): … }
 *
 * The promise the subgraph makes: with a marked argument given (not null),
 * two subscriptions with the same arguments receive the same sequence of
 * events, whenever each is opened; with none given, the stream starts when
 * it is opened. The URL only names the spec; nothing is fetched from it.
 *
 * Per subscription (the one root field a subscription has):
 * - the field has no marked argument → `none` (never shared upstream);
 * - a marked argument has a value (a literal, a variable's value or the
 *   argument's default) → `replay`;
 * - else → `live`.
 */
import type { DocumentNode, FieldNode, GraphQLSchema, OperationDefinitionNode } from 'graphql';
import { Kind, getArgumentValues, parse } from './graphql.js';
import { linkedDirectiveNames } from '../linked-directives.js';
import type { Sharing } from './shared-upstream.js';

/** The spec's URL (any v0.x). */
export const REPLAY_SPEC = /^https:\/\/rental\.example\/specs\/replay\/v0\.\d+$/;

/** The marked arguments of each Subscription field, read from a supergraph. */
export class ReplayArguments {
  private readonly byField = new Map<string, readonly string[]>();

  /** Reads the supergraph SDL; one that does not parse marks nothing. */
  static fromSupergraph(supergraphSdl: string): ReplayArguments {
    try {
      return new ReplayArguments(parse(supergraphSdl, { noLocation: true }));
    } catch {
      return new ReplayArguments();
    }
  }

  private constructor(document?: DocumentNode) {
    if (!document) return;
    const { replayAfter } = linkedDirectiveNames(document, { url: REPLAY_SPEC, name: 'replay' }, ['replayAfter']);
    const subscriptionType = subscriptionTypeName(document);
    for (const def of document.definitions) {
      if ((def.kind !== Kind.OBJECT_TYPE_DEFINITION && def.kind !== Kind.OBJECT_TYPE_EXTENSION) || def.name.value !== subscriptionType) continue;
      for (const field of def.fields ?? []) {
        const marked = (field.arguments ?? []).filter((a) => a.directives?.some((d) => d.name.value === replayAfter)).map((a) => a.name.value);
        if (marked.length > 0) this.byField.set(field.name.value, marked);
      }
    }
  }

  /**
   * How a subscription may share its upstream stream, for the client's
   * operation and its coerced variables (see the module comment).
   */
  sharing(schema: GraphQLSchema, operation: OperationDefinitionNode, variables: Record<string, unknown>): Sharing {
    const root = operation.selectionSet.selections.find((s): s is FieldNode => s.kind === Kind.FIELD);
    const marked = root ? this.byField.get(root.name.value) : undefined;
    const definition = root ? schema.getSubscriptionType()?.getFields()[root.name.value] : undefined;
    if (!root || !marked || !definition) return 'none';
    const values = getArgumentValues(definition, root, variables);
    return marked.some((name) => values[name] !== undefined && values[name] !== null) ? 'replay' : 'live';
  }
}

function subscriptionTypeName(document: DocumentNode): string {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    const op = def.operationTypes?.find((t) => t.operation === 'subscription');
    if (op) return op.type.name.value;
  }
  return 'Subscription';
}
