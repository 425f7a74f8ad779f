/**
 * Comparison server (b): a plain `@apollo/gateway` in `@apollo/server`'s
 * standalone server on the same supergraph: no JWT verification, no limits,
 * no metrics, no subscriptions. The subgraphs refuse calls without an
 * internal identity, so every subgraph fetch carries one fixed identity
 * (BENCH_IDENTITY, JSON `{ sub, role }`), re-signed in `willSendRequest`
 * (tokens live 60 s; the signer reuses one for 30 s). Without BENCH_IDENTITY
 * (the router bench's in-memory subgraphs check nothing) it is the gateway
 * with its defaults.
 *
 * Env: BENCH_SUPERGRAPH (file, subgraph URLs already pointing at the bench's
 * subgraphs), BENCH_PORT, BENCH_IDENTITY and INTERNAL_JWT_SECRET (optional).
 */
import fs from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { IDENTITY_HEADER, InternalIdentitySigner, type Identity } from '@rental/auth';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} must be set`);
  return v;
};
/** The identity to forward; without BENCH_IDENTITY (subgraphs that check none) the gateway runs with its defaults. */
const identity = process.env.BENCH_IDENTITY ? (JSON.parse(process.env.BENCH_IDENTITY) as Identity) : undefined;
const signer = identity ? new InternalIdentitySigner(need('INTERNAL_JWT_SECRET'), 'router') : undefined;

class SignedDataSource extends RemoteGraphQLDataSource {
  override async willSendRequest({ request }: GraphQLDataSourceProcessOptions): Promise<void> {
    if (signer && identity) request.http?.headers.set(IDENTITY_HEADER, await signer.sign(identity));
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: fs.readFileSync(need('BENCH_SUPERGRAPH'), 'utf8'),
  ...(identity ? { buildService: ({ url }: { url?: string }) => new SignedDataSource({ url }) } : {}),
});
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port: Number(need('BENCH_PORT')), host: '127.0.0.1' } });
console.log(`plain gateway ready at ${url}`);
const stop = () => void server.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
