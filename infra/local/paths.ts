/**
 * Where local infra keeps its files. Everything generated lives under `.data/`
 * at the repository root (gitignored), so a fresh clone starts clean and
 * `rm -rf .data` resets every local server.
 */
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The repository root (two levels above this file). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `.data/` under the repository root (or `RENTAL_DATA_DIR`, so a test can run
 * `npm start` beside a developer's own without sharing its lock), or a path inside it.
 */
export function dataPath(...parts: string[]): string {
  return path.join(process.env.RENTAL_DATA_DIR || path.join(REPO_ROOT, '.data'), ...parts);
}
