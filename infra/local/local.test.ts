/** Unit tests of the small local-infra pieces: service list, secrets, token arguments. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localEnv } from './secrets.js';
import { resolveServices, serviceUrlsEnv, supergraphSubgraphs } from './services.js';
import { parseTokenArgs } from './token.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'local-test-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('services', () => {
  it('starts only services whose entry exists, with env port overrides', () => {
    fs.mkdirSync(path.join(dir, 'subgraphs/items/src'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'subgraphs/items/src/main.ts'), '');
    const services = resolveServices({ ITEMS_PORT: '5001' }, dir);
    const items = services.find((s) => s.name === 'items');
    expect(items).toMatchObject({ present: true, port: 5001, url: 'http://127.0.0.1:5001/graphql' });
    expect(services.filter((s) => s.present).map((s) => s.name)).toEqual(['items']);
    expect(services.find((s) => s.name === 'router')).toMatchObject({ port: 4000, present: false });
  });

  it('SUBGRAPH_URLS lists running subgraphs that are in the supergraph', () => {
    for (const name of ['items', 'stores']) {
      fs.mkdirSync(path.join(dir, `subgraphs/${name}/src`), { recursive: true });
      fs.writeFileSync(path.join(dir, `subgraphs/${name}/src/main.ts`), '');
    }
    const supergraph = path.join(dir, 'supergraph.graphql');
    fs.writeFileSync(supergraph, 'enum join__Graph {\n  ITEMS @join__graph(name: "items", url: "http://localhost:4001/graphql")\n}\n');
    const services = resolveServices({}, dir);
    const env = serviceUrlsEnv(services, supergraphSubgraphs(supergraph));
    expect(env.SUBGRAPH_URLS).toBe('items=http://127.0.0.1:4001/graphql');
    expect(env.RENTALS_URL).toBe('http://127.0.0.1:4004/graphql');
    expect(serviceUrlsEnv(services).SUBGRAPH_URLS).toBe('items=http://127.0.0.1:4001/graphql,stores=http://127.0.0.1:4003/graphql');
    expect(supergraphSubgraphs(path.join(dir, 'missing.graphql'))).toBeUndefined();
  });
});

describe('local secrets', () => {
  it('generates missing secrets once (mode 0600) and reuses them; env and .env win', () => {
    const files = { dotEnv: path.join(dir, '.env'), localEnv: path.join(dir, 'data/local.env') };
    const first = localEnv({}, files);
    expect(first.JWT_SECRET?.length).toBeGreaterThanOrEqual(32);
    expect(first.INTERNAL_JWT_SECRET).not.toBe(first.JWT_SECRET);
    expect(fs.statSync(files.localEnv).mode & 0o777).toBe(0o600);
    expect(localEnv({}, files).JWT_SECRET).toBe(first.JWT_SECRET);

    fs.writeFileSync(files.dotEnv, 'JWT_SECRET=from-dot-env-0123456789012345678901234\nLOG_LEVEL=debug\n');
    expect(localEnv({}, files)).toMatchObject({ JWT_SECRET: 'from-dot-env-0123456789012345678901234', LOG_LEVEL: 'debug' });
    expect(localEnv({ LOG_LEVEL: 'warn' }, files).LOG_LEVEL).toBe('warn');
  });
});

describe('token arguments', () => {
  it('accepts a valid command line', () => {
    expect(parseTokenArgs(['--role', 'staff', '--sub', 'bob', '--store', 'S1'])).toEqual({
      role: 'STAFF',
      sub: 'bob',
      storeId: 'S1',
      expiresIn: '8h',
    });
    expect(parseTokenArgs(['--role', 'customer', '--sub', 'alice', '--expires', '30m'])).toMatchObject({ role: 'CUSTOMER', expiresIn: '30m' });
  });

  it.each([
    [['--sub', 'x'], '--role is required'],
    [['--role', 'boss', '--sub', 'x'], '--role must be one of'],
    [['--role', 'admin'], '--sub is required'],
    [['--role', 'staff', '--sub', 'bob'], '--store is required'],
    [['--role', 'admin', '--sub', 'a', '--expires', 'soon'], '--expires must look like'],
    [['--role', 'admin', '--sub', 'a', '--nope'], "Unknown option '--nope'"],
  ])('rejects %j', (argv, message) => {
    expect(() => parseTokenArgs(argv)).toThrow(message);
  });
});
