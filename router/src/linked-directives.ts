/**
 * The names a supergraph gives the directives of a linked spec (`@link`,
 * the core schema spec the federation specs use): a directive the link
 * imports has the name it was imported as; one it does not import is
 * namespaced, `@<namespace>__<name>`, where the namespace is the link's `as`
 * or the spec's name (the URL's second-last segment), and the directive
 * named like the spec itself is `@<namespace>`.
 *
 * Why: the router reads its own directives (`@cost`, `@listSize`,
 * `@replayAfter`) from the supergraph, and a subgraph may import them under
 * other names.
 */
import type { DirectiveNode, DocumentNode, ValueNode } from 'graphql';
import { Kind } from './subscriptions/graphql.js';

/**
 * For each of `directives` (names without `@`) of the first link whose URL
 * matches `spec`, the name it has in `document`. Without such a link, the
 * names as they are in the spec.
 */
export function linkedDirectiveNames<N extends string>(
  document: DocumentNode,
  spec: { url: RegExp; name: string },
  directives: readonly N[],
): Record<N, string> {
  const names = {} as Record<N, string>;
  const link = findLink(document, spec.url);
  const namespace = link ? stringOf(argumentOf(link, 'as')) ?? spec.name : spec.name;
  for (const d of directives) names[d] = !link ? d : d === spec.name ? namespace : `${namespace}__${d}`;
  const imports = link ? argumentOf(link, 'import') : undefined;
  for (const entry of imports?.kind === Kind.LIST ? imports.values : []) {
    const [name, alias] =
      entry.kind === Kind.STRING
        ? [entry.value, entry.value]
        : [stringField(entry, 'name'), stringField(entry, 'as') ?? stringField(entry, 'name')];
    const local = name?.replace(/^@/, '') as N | undefined;
    if (local && directives.includes(local) && alias) names[local] = alias.replace(/^@/, '');
  }
  return names;
}

/** The value of a directive's argument, as written. */
export function argumentOf(directive: DirectiveNode, name: string): ValueNode | undefined {
  return directive.arguments?.find((a) => a.name.value === name)?.value;
}

function findLink(document: DocumentNode, url: RegExp): DirectiveNode | undefined {
  for (const def of document.definitions) {
    if (def.kind !== Kind.SCHEMA_DEFINITION && def.kind !== Kind.SCHEMA_EXTENSION) continue;
    for (const link of def.directives ?? []) {
      const value = link.name.value === 'link' ? stringOf(argumentOf(link, 'url')) : undefined;
      if (value !== undefined && url.test(value)) return link;
    }
  }
  return undefined;
}

function stringOf(node: ValueNode | undefined): string | undefined {
  return node?.kind === Kind.STRING ? node.value : undefined;
}

function stringField(node: ValueNode, name: string): string | undefined {
  if (node.kind !== Kind.OBJECT) return undefined;
  return stringOf(node.fields.find((f) => f.name.value === name)?.value);
}
