import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { routerShape } from '../../router/src/config.js';
import { itemsConfigShape } from '../../subgraphs/items/src/config.js';
import { rentalsConfigShape } from '../../subgraphs/rentals/src/config.js';
import { reservationsConfigShape } from '../../subgraphs/reservations/src/config.js';
import { storesConfigShape } from '../../subgraphs/stores/src/config.js';

/**
 * `.env.example` is the list a newcomer reads: every variable any service
 * reads must be in it (set, or commented out with its default).
 */
const shapes = {
  router: routerShape,
  items: itemsConfigShape,
  reservations: reservationsConfigShape,
  stores: storesConfigShape,
  rentals: rentalsConfigShape,
};

/** Names assigned in an env file, counting `# NAME=value` lines (documented but unset). */
export function documentedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^\s*#?\s*([A-Z][A-Z0-9_]*)=/.exec(line);
    if (m) names.add(m[1]!);
  }
  return names;
}

describe('.env.example', () => {
  const documented = documentedNames(readFileSync(new URL('../../.env.example', import.meta.url), 'utf8'));

  it.each(Object.entries(shapes))('lists every variable %s reads', (_service, shape) => {
    const missing = Object.keys(shape).filter((name) => !documented.has(name));
    expect(missing, `add to .env.example: ${missing.join(', ')}`).toEqual([]);
  });

  it('the check notices a missing variable', () => {
    const partial = documentedNames('NODE_ENV=development\n# LOG_LEVEL=info\n');
    expect(Object.keys(itemsConfigShape).filter((n) => !partial.has(n))).toContain('MONGODB_URI');
    expect(partial.has('LOG_LEVEL')).toBe(true);
  });
});
