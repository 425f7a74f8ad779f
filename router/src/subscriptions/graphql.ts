/**
 * graphql-js, loaded the way the gateway, federation-internals and graphql-ws
 * load it (Node's resolution of `graphql` → its CommonJS build).
 *
 * Why: graphql 16 ships two builds (`index.js` and `index.mjs`). Tools that
 * honour the `module` field (vite/vitest) hand our ESM sources the `.mjs`
 * copy while the CommonJS gateway and graphql-ws get the `.js` one; then
 * `validate()` refuses the gateway's schema ("from another module or realm")
 * and graphql-ws does not recognise our `GraphQLError`s (`instanceof`) and
 * closes the socket instead of answering the operation with an error.
 * So every graphql-js value in router/ (functions, classes, `Kind`) comes
 * from here, tests and fixtures included; eslint.config.js makes any other
 * value import of `graphql` an error. `import type` from 'graphql' is fine:
 * it is erased at compile time and loads no second copy.
 */
import { createRequire } from 'node:module';

const graphql = createRequire(import.meta.url)('graphql') as typeof import('graphql');

export const { GraphQLError, Kind, parse, visit, validate, getOperationAST, getVariableValues, getArgumentValues, buildASTSchema, specifiedRules, isTypeDefinitionNode, isTypeExtensionNode } =
  graphql;
/** The class's instance type, so `GraphQLError` from here is a type too. */
export type GraphQLError = import('graphql').GraphQLError;
