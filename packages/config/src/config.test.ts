/** Parsing, field errors that name their variable, and rules across variables (keep-alive vs headers timeout). */
import { describe, expect, it } from 'vitest';
import { ConfigError, DEADLINE_MARGIN_MS, commonShape, env, httpServerShape, parseConfig, serverTimeouts, subgraphShape } from './index.js';

const SECRET = 'config-test-secret-0123456789abcdefghij';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('parseConfig', () => {
  it('applies defaults, and counts empty strings as unset', () => {
    const shape = { PORT: env.port(4000), LIST: env.list(['a']) };
    expect(parseConfig(shape, { PORT: '', LIST: 'x, y,' })).toEqual({ PORT: 4000, LIST: ['x', 'y'] });
  });

  it('names every bad variable in one error', () => {
    const problems = problemsOf(() => parseConfig({ A: env.int(1, 0, 10), B: env.secret(32) }, { A: '11' }));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^A: /);
    expect(problems[1]).toBe('B: is required but not set');
  });
});

describe('keep-alive and headers timeouts', () => {
  const base = { INTERNAL_JWT_SECRET: SECRET };

  it('default to 65000 ms keep-alive and 5000 ms more for headers', () => {
    const config = parseConfig(commonShape, base);
    expect(config.KEEP_ALIVE_TIMEOUT_MS).toBe(65_000);
    expect(config.HEADERS_TIMEOUT_MS).toBeUndefined();
    expect(serverTimeouts(config)).toEqual({ keepAliveTimeout: 65_000, headersTimeout: 70_000 });
  });

  it('take configured values', () => {
    const config = parseConfig(commonShape, { ...base, KEEP_ALIVE_TIMEOUT_MS: '1500', HEADERS_TIMEOUT_MS: '4000' });
    expect(serverTimeouts(config)).toEqual({ keepAliveTimeout: 1_500, headersTimeout: 4_000 });
    // Unset headers timeout follows the keep-alive one.
    expect(serverTimeouts(parseConfig(httpServerShape, { KEEP_ALIVE_TIMEOUT_MS: '90000' }))).toEqual({
      keepAliveTimeout: 90_000,
      headersTimeout: 95_000,
    });
  });

  it.each([
    ['equal', '65000', '65000'],
    ['smaller', '65000', '60000'],
    ['smaller than a small keep-alive', '3000', '2000'],
  ])('HEADERS_TIMEOUT_MS %s than KEEP_ALIVE_TIMEOUT_MS → an error naming HEADERS_TIMEOUT_MS', (_case, keepAlive, headers) => {
    const problems = problemsOf(() =>
      parseConfig(commonShape, { ...base, KEEP_ALIVE_TIMEOUT_MS: keepAlive, HEADERS_TIMEOUT_MS: headers }),
    );
    expect(problems).toEqual([`HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS (${keepAlive}), got ${headers}`]);
  });

  it('the rule holds for any shape that spreads the variables (here a service shape with its own fields)', () => {
    const serviceShape = { ...commonShape, SERVICE_PORT: env.port(4100) };
    const err = (() => {
      try {
        parseConfig(serviceShape, { ...base, HEADERS_TIMEOUT_MS: '65000' });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err?.message).toContain('HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS (65000)');
  });

  it.each([
    ['not a number', 'soon'],
    ['zero (Node: no timeout at all)', '0'],
    ['below 1 s', '500'],
    ['above 295000 (headers would pass Node’s 300 s request timeout)', '296000'],
  ])('KEEP_ALIVE_TIMEOUT_MS %s → an error naming it', (_case, value) => {
    const problems = problemsOf(() => parseConfig(commonShape, { ...base, KEEP_ALIVE_TIMEOUT_MS: value }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^KEEP_ALIVE_TIMEOUT_MS: /);
  });

  it('HEADERS_TIMEOUT_MS above Node’s 300 s request timeout → an error naming it', () => {
    expect(problemsOf(() => parseConfig(commonShape, { ...base, HEADERS_TIMEOUT_MS: '300001' }))[0]).toMatch(/^HEADERS_TIMEOUT_MS: /);
  });

  it('values assembled in code are held to the same rule', () => {
    expect(problemsOf(() => serverTimeouts({ KEEP_ALIVE_TIMEOUT_MS: 10_000, HEADERS_TIMEOUT_MS: 10_000 }))).toEqual([
      'HEADERS_TIMEOUT_MS: must be greater than KEEP_ALIVE_TIMEOUT_MS (10000), got 10000',
    ]);
  });
});

describe('request deadline and sweeper staleness', () => {
  const shape = { ...subgraphShape, SAGA_STALE_MS: env.int(30_000, 1) };

  it('defaults to a 10 s deadline, and accepts a staleness beyond it', () => {
    expect(parseConfig(shape, {})).toEqual({ REQUEST_DEADLINE_MS: 10_000, SAGA_STALE_MS: 30_000 });
    expect(parseConfig(shape, { REQUEST_DEADLINE_MS: '1000', SAGA_STALE_MS: '2001' })).toEqual({ REQUEST_DEADLINE_MS: 1_000, SAGA_STALE_MS: 2_001 });
  });

  it('refuses a staleness the request deadline (plus the network margin) could still reach, naming SAGA_STALE_MS', () => {
    expect(problemsOf(() => parseConfig(shape, { SAGA_STALE_MS: '11000' }))).toEqual([
      `SAGA_STALE_MS: must be greater than REQUEST_DEADLINE_MS + ${DEADLINE_MARGIN_MS} (11000), got 11000`,
    ]);
  });
});
