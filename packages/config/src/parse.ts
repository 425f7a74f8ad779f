/**
 * Parsing a shape against the environment: one message naming every bad
 * variable, so a misconfigured pod fails at start, not at first request.
 */
import { ConfigError, type ConfigRule } from './errors.js';
import { z } from './fields.js';
import { staleAfterDeadline } from './deadline.js';
import { headersAfterKeepAlive } from './http.js';

/** Every rule across variables; each applies to any shape declaring all its variables. */
const RULES: readonly ConfigRule[] = [headersAfterKeepAlive, staleAfterDeadline];

/** Parses `source` (default `process.env`) against `shape`; throws {@link ConfigError}. */
export function parseConfig<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned: Record<string, string> = {};
  for (const key of Object.keys(shape)) {
    const v = source[key];
    if (v !== undefined && v !== '') cleaned[key] = v;
  }
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const name = i.path.join('.');
      const msg = i.code === 'invalid_type' && i.received === 'undefined' ? 'is required but not set' : i.message;
      return `${name}: ${msg}`;
    });
    throw new ConfigError(problems);
  }
  // Rules read several values, so they run once every field has parsed.
  const values = result.data as Record<string, unknown>;
  const problems = RULES.filter((rule) => rule.variables.every((name) => name in shape))
    .map((rule) => rule.check(values))
    .filter((p): p is string => p !== undefined);
  if (problems.length > 0) throw new ConfigError(problems);
  return result.data;
}

/** Like {@link parseConfig}, but prints the problem and exits with code 1. */
export function loadConfig<S extends z.ZodRawShape>(
  shape: S,
  source: Record<string, string | undefined> = process.env,
): z.infer<z.ZodObject<S>> {
  try {
    return parseConfig(shape, source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
