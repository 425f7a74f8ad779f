import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { ConcurrencyGate } from './concurrency-gate.js';

describe('ConcurrencyGate', () => {
  it('runs up to the limit at once and refuses the next one at once with TRY_LATER and a retry hint', async () => {
    const gate = new ConcurrencyGate(2, 1);
    const release: Array<() => void> = [];
    const slow = () => new Promise<string>((resolve) => release.push(() => resolve('done')));
    const a = gate.run('Product registration', slow);
    const b = gate.run('Product registration', slow);
    expect(gate.active).toBe(2);
    const started = performance.now();
    const refused = await gate.run('Product registration', slow).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(50);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'TRY_LATER', details: { retryAfterSeconds: 1 } });
    release.forEach((r) => r());
    await expect(Promise.all([a, b])).resolves.toEqual(['done', 'done']);
    expect(gate.active).toBe(0);
    await expect(gate.run('x', async () => 1)).resolves.toBe(1);
  });

  it('frees the slot when the work fails', async () => {
    const gate = new ConcurrencyGate(1);
    await expect(gate.run('x', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(gate.active).toBe(0);
  });
});
