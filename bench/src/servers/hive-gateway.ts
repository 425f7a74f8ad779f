/**
 * Comparison server (c): `@graphql-hive/gateway`'s runtime
 * (`createGatewayRuntime`) on a `node:http` server, on the same supergraph.
 * Like the plain gateway, it forwards one fixed internal identity
 * (BENCH_IDENTITY), re-signed as it ages, on every subgraph fetch (an
 * `onFetch` plugin). No other plugins; logging off.
 *
 * By default Hive's HTTP transport merges identical subgraph queries in
 * flight (`deduplicateInflightRequests`); BENCH_HIVE_DEDUPE=off turns that
 * off, for a like-for-like comparison with the Apollo gateways (which send
 * every fetch).
 *
 * Env: BENCH_SUPERGRAPH, BENCH_PORT, BENCH_HIVE_DEDUPE, and BENCH_IDENTITY with
 * INTERNAL_JWT_SECRET (optional: without them, no plugin).
 */
import http from 'node:http';
import { IDENTITY_HEADER, InternalIdentitySigner, type Identity } from '@rental/auth';

const need = (k: string) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} must be set`);
  return v;
};
/** The identity to forward; without BENCH_IDENTITY (subgraphs that check none) no plugin at all: Hive's defaults. */
const identity = process.env.BENCH_IDENTITY ? (JSON.parse(process.env.BENCH_IDENTITY) as Identity) : undefined;
const signer = identity ? new InternalIdentitySigner(need('INTERNAL_JWT_SECRET'), 'router') : undefined;

// Loaded by a non-literal specifier so its types stay out of this program:
// graphql-yoga's augmentation of GraphQLErrorExtensions (`http.headers` as a
// record) clashes with @apollo/server's (a HeaderMap) in the router's code.
interface FetchHook {
  options: RequestInit;
  setOptions: (options: RequestInit) => void;
}
interface HiveModule {
  createGatewayRuntime: (config: Record<string, unknown> & { plugins: () => Array<{ onFetch(hook: FetchHook): Promise<void> }> }) => http.RequestListener & {
    dispose(): unknown;
  };
}
const hivePackage = '@graphql-hive/gateway';
const { createGatewayRuntime } = (await import(hivePackage)) as HiveModule;

const gateway = createGatewayRuntime({
  supergraph: need('BENCH_SUPERGRAPH'),
  logging: false,
  graphqlEndpoint: '/graphql',
  landingPage: false,
  ...(process.env.BENCH_HIVE_DEDUPE === 'off' ? { transportEntries: { '*': { options: { deduplicateInflightRequests: false } } } } : {}),
  plugins: () =>
    signer && identity
      ? [
          {
            async onFetch({ options, setOptions }) {
              const token = await signer.sign(identity);
              const headers = { ...((options.headers ?? {}) as Record<string, string>), [IDENTITY_HEADER]: token };
              setOptions({ ...options, headers });
            },
          },
        ]
      : [],
});
const server = http.createServer(gateway);
const port = Number(need('BENCH_PORT'));
server.listen(port, '127.0.0.1', () => console.log(`hive gateway ready at http://127.0.0.1:${port}/graphql`));
const stop = () => {
  server.close();
  void Promise.resolve(gateway.dispose()).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
