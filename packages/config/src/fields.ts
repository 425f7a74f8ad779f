/**
 * Field helpers: each parses one raw environment string into a typed value
 * with its default, so every service spells the same kind of setting the same way.
 */
import { z } from 'zod';

export { z };

/** The helpers a config shape is built from. */
export const env = {
  /** A TCP port, 0 meaning "any free port" (tests use that). */
  port: (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback),
  /** A positive integer, with its default. */
  int: (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(fallback),
  /** A URL with one of the given schemes. */
  url: (schemes: string[]) =>
    z
      .string()
      .trim()
      .refine((v) => {
        try {
          return schemes.includes(new URL(v).protocol.replace(/:$/, ''));
        } catch {
          return false;
        }
      }, `must be a URL with scheme ${schemes.join(' or ')}`),
  /** A secret of at least `min` characters. */
  secret: (min = 32) => z.string().min(min, `must be at least ${min} characters`),
  /** "true"/"false"/"1"/"0". */
  bool: (fallback: boolean) =>
    z
      .enum(['true', 'false', '1', '0'])
      .default(fallback ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1'),
  /** A comma-separated list of strings. */
  list: (fallback: string[] = []) =>
    z
      .string()
      .default(fallback.join(','))
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean)),
  nodeEnv: () => z.enum(['development', 'test', 'production']).default('development'),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};
