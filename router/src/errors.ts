/**
 * How errors leave the router.
 *
 * - Never a stack trace; gateway-internal details (`exception`, `response`) dropped.
 * - Subgraph error codes and `extensions.field` pass through unchanged.
 * - GraphQL validation errors about input *values* written inline in the
 *   operation (unknown input field, wrong literal type, missing required
 *   input field) become `BAD_USER_INPUT`, the code the same mistake gets
 *   when sent through variables; `extensions.field` names the input path.
 * - Errors without a code, or INTERNAL_SERVER_ERROR: logged; in production
 *   the message becomes "Internal server error".
 */
import type { GraphQLError, ASTNode, GraphQLFormattedError } from 'graphql';
import { Kind, parse, visit } from './subscriptions/graphql.js';
import { unwrapResolverError } from '@apollo/server/errors';
import type { Logger } from '@rental/observability';
import { LIMIT_CODE, TOO_MANY_TOKENS } from './limits/operation.js';

/** Messages graphql-js uses for a bad input value (ValuesOfCorrectTypeRule, coerceInputValue). */
const INPUT_VALUE_MESSAGES = [
  /^Field "[^"]+" is not defined by type "[^"]+"/,
  /^Field "[^"]+" of required type "[^"]+" was not provided/,
  /^Expected value of type "[^"]+", found /,
  /^Expected type "[^"]+"/,
  /^(Int|Float|String|Boolean|ID) cannot represent /,
  /^Enum "[^"]+" cannot represent /,
  /^Value "[^"]+" does not exist in "[^"]+" enum/,
];

/** An error's `extensions.code` when it is a string (what metrics and logs label it with), else `fallback`. */
export function codeOf(error: { extensions?: Record<string, unknown> | null } | undefined, fallback: string): string {
  const code = error?.extensions?.code;
  return typeof code === 'string' ? code : fallback;
}

export function isInputValueMessage(message: string): boolean {
  return INPUT_VALUE_MESSAGES.some((re) => re.test(message));
}

/** The names on the path from an argument down to the value at `position` in `body`. */
function inputPathAt(body: string, position: number): string[] | undefined {
  let found: string[] | undefined;
  try {
    visit(parse(body), {
      enter(node: ASTNode, _key, parent, _path, ancestors) {
        if (found || node.loc?.start !== position) return undefined;
        // `ancestors` stops above the parent, which comes separately.
        const chain = [...ancestors, parent as ASTNode, node];
        const names: string[] = [];
        for (const a of chain) {
          if (a && !Array.isArray(a) && 'kind' in (a as ASTNode)) {
            const n = a as ASTNode;
            if (n.kind === Kind.ARGUMENT || n.kind === Kind.OBJECT_FIELD) names.push(n.name.value);
          }
        }
        if (names.length > 0) found = names;
        return undefined;
      },
    });
  } catch {
    return undefined;
  }
  return found;
}

/** `["input","stock"]` → `"stock"`; a top-level argument keeps its own name. */
function fieldName(path: string[]): string {
  return path.length > 1 ? path.slice(1).join('.') : (path[0] ?? '');
}

/** For a validation error about an input value: the field it concerns, or undefined. */
function inlineInputField(message: string, original: unknown): string | undefined {
  // Duck-typed: the error may come from another copy of graphql-js.
  const err = original as Partial<Pick<GraphQLError, 'positions' | 'source'>> | undefined;
  const position = err?.positions?.[0];
  const body = err?.source?.body;
  const path = body !== undefined && position !== undefined ? (inputPathAt(body, position) ?? []) : [];
  const unknown = /^Field "([^"]+)" is not defined by type/.exec(message);
  if (unknown?.[1] && path[path.length - 1] !== unknown[1]) path.push(unknown[1]);
  const missing = /^Field "[^"]+\.([^".]+)" of required type/.exec(message);
  if (missing?.[1]) path.push(missing[1]);
  return path.length > 0 ? fieldName(path) : undefined;
}

/** For a variable coercion error: `... at "input.stock"; ...` → `stock`. */
function variableInputField(message: string): string | undefined {
  const m = /^Variable "\$([^"]+)" got invalid value .*? at "([^"]+)"/s.exec(message);
  if (m?.[2]) return fieldName(m[2].split('.'));
  const unknown = /Field "([^"]+)" is not defined by type/.exec(message);
  const whole = /^Variable "\$([^"]+)"/.exec(message);
  if (unknown?.[1]) return unknown[1];
  return whole?.[1];
}

export function formatError(logger: Logger, production: boolean) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const { stacktrace: _s, exception: _e, response: _r, ...extensions } = formatted.extensions ?? {};
    let message = formatted.message;
    const code = typeof extensions.code === 'string' ? extensions.code : undefined;

    // Operation limits (limits/operation.ts): one code, BAD_USER_INPUT, whichever stage caught them.
    if (typeof extensions.limit === 'string') {
      return { message, ...(formatted.locations ? { locations: formatted.locations } : {}), extensions: { ...extensions, code: LIMIT_CODE } };
    }
    const tokens = code === 'GRAPHQL_PARSE_FAILED' ? TOO_MANY_TOKENS.exec(message) : null;
    if (tokens) {
      const max = Number(tokens[1]);
      return {
        message: `Operation has more than ${max} tokens; the limit is ${max}`,
        extensions: { ...extensions, code: LIMIT_CODE, limit: 'MAX_TOKENS', max },
      };
    }
    if (code === 'GRAPHQL_VALIDATION_FAILED' && isInputValueMessage(message)) {
      const field = inlineInputField(message, error);
      if (field && !message.includes(`"${field.split('.').pop()}"`)) message = `${field}: ${message}`;
      return {
        message,
        locations: formatted.locations,
        extensions: { ...extensions, code: 'BAD_USER_INPUT', ...(field ? { field } : {}) },
      };
    }
    if (code === 'BAD_USER_INPUT' && extensions.field === undefined && message.startsWith('Variable "$')) {
      const field = variableInputField(message);
      return { ...formatted, message, extensions: { ...extensions, ...(field ? { field } : {}) } };
    }
    if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
      logger.error({ err: unwrapResolverError(error), path: formatted.path }, 'internal error');
      return {
        message: production ? 'Internal server error' : message,
        ...(formatted.locations ? { locations: formatted.locations } : {}),
        ...(formatted.path ? { path: formatted.path } : {}),
        extensions: { ...(production ? {} : extensions), code: 'INTERNAL_SERVER_ERROR' },
      };
    }
    return { ...formatted, message, extensions };
  };
}
