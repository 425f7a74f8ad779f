/**
 * The supergraph the router serves: read from a file, its subgraph list
 * checked against the `SUBGRAPH_URLS` overrides, optionally reloaded when the
 * file changes (development).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { resolve } from 'node:path';
import type { SupergraphSdlHook } from '@apollo/gateway';
import { ConfigError } from '@rental/config';
import type { Logger } from '@rental/observability';
import { supergraphSubgraphs } from './gateway-internals.js';

export interface SubgraphEndpoint {
  name: string;
  url: string;
}

/** Reads the supergraph file; a missing file is a configuration error. */
export function readSupergraph(path: string): string {
  const full = resolve(path);
  try {
    return readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError([`SUPERGRAPH_PATH: cannot read ${full} (${(err as NodeJS.ErrnoException).code ?? 'error'}); run npm run compose`]);
  }
}

/** The subgraphs a supergraph names, with their URLs as written in it. */
export function subgraphsOf(supergraphSdl: string): SubgraphEndpoint[] {
  try {
    return supergraphSubgraphs(supergraphSdl);
  } catch (err) {
    throw new ConfigError([`SUPERGRAPH_PATH: not a valid supergraph (${(err as Error).message.split('\n')[0]})`]);
  }
}

/** Throws ConfigError naming every override that is not a subgraph of the supergraph. */
export function checkOverrides(supergraphSdl: string, overrides: Record<string, string>): SubgraphEndpoint[] {
  const subgraphs = subgraphsOf(supergraphSdl);
  const known = new Set(subgraphs.map((s) => s.name));
  const unknown = Object.keys(overrides).filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new ConfigError(
      unknown.map(
        (name) => `SUBGRAPH_URLS: unknown subgraph "${name}" (the supergraph has: ${[...known].join(', ') || 'none'})`,
      ),
    );
  }
  return subgraphs.map((s) => ({ name: s.name, url: overrides[s.name] ?? s.url }));
}

/**
 * A gateway `supergraphSdl` hook serving the given SDL; with `watch`, polls
 * the file and hands each valid change to the gateway (a bad file is logged
 * and the previous supergraph kept).
 */
export function supergraphHook(opts: {
  path: string;
  initialSdl: string;
  overrides: Record<string, string>;
  watch: boolean;
  logger: Logger;
}): SupergraphSdlHook {
  return async ({ update }) => {
    if (!opts.watch) return { supergraphSdl: opts.initialSdl };
    const full = resolve(opts.path);
    let current = opts.initialSdl;
    const onChange = () => {
      let next: string;
      try {
        next = readFileSync(full, 'utf8');
        if (next === current) return;
        checkOverrides(next, opts.overrides);
        update(next);
        current = next;
        opts.logger.info({ path: full }, 'supergraph reloaded');
      } catch (err) {
        opts.logger.error({ err, path: full }, 'supergraph change rejected; keeping the previous one');
      }
    };
    watchFile(full, { interval: 1000, persistent: false }, onChange);
    return {
      supergraphSdl: current,
      async cleanup() {
        unwatchFile(full, onChange);
      },
    };
  };
}
