/**
 * Prints the API schema of a supergraph file: what clients of the router see
 * (no join__/link machinery, no @inaccessible fields). CI diffs main's API
 * schema with the pull request's using GraphQL Inspector to find breaking
 * changes: `npx tsx infra/build/api-schema.ts schema/supergraph.graphql`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printSchema, Supergraph } from '@apollo/federation-internals';

export function apiSchemaOf(supergraphSdl: string): string {
  return printSchema(Supergraph.build(supergraphSdl).apiSchema());
}

const file = process.argv[2];
if (file && process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${apiSchemaOf(fs.readFileSync(file, 'utf8'))}\n`);
}
