import { describe, expect, it } from 'vitest';
import { ProviderTimeoutError, callWithTimeout } from './provider.js';
import { SandboxPaymentProvider } from './sandbox.js';

const base = { reference: 'r1', amount: 100, currency: 'EUR' };

describe('SandboxPaymentProvider', () => {
  const provider = new SandboxPaymentProvider();

  it('knows its tokens', () => {
    expect(provider.supportsToken('tok_approve')).toBe(true);
    expect(provider.supportsToken('tok_decline')).toBe(true);
    expect(provider.supportsToken('tok_timeout')).toBe(true);
    expect(provider.supportsToken('tok_visa')).toBe(false);
  });

  it('approves and declines', async () => {
    await expect(provider.charge({ ...base, token: 'tok_approve' })).resolves.toMatchObject({ status: 'PAID' });
    await expect(provider.charge({ ...base, token: 'tok_decline' })).resolves.toMatchObject({
      status: 'DECLINED',
      reason: 'card declined',
    });
  });

  it('answers a repeated reference the same', async () => {
    const a = await provider.charge({ ...base, token: 'tok_approve' });
    const b = await provider.charge({ ...base, token: 'tok_approve' });
    expect(a).toEqual(b);
  });

  it('tok_timeout never answers, and the timeout gives up cleanly', async () => {
    let seen: AbortSignal | undefined;
    const started = Date.now();
    await expect(
      callWithTimeout(50, (signal) => {
        seen = signal;
        return provider.charge({ ...base, token: 'tok_timeout', signal });
      }),
    ).rejects.toBeInstanceOf(ProviderTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(seen?.aborted).toBe(true);
  });

  it('callWithTimeout gives up even on a provider that ignores the signal', async () => {
    await expect(callWithTimeout(20, () => new Promise(() => undefined))).rejects.toBeInstanceOf(ProviderTimeoutError);
  });

  it('callWithTimeout passes answers and errors through, and aborts the signal afterwards', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      callWithTimeout(1000, async (signal) => {
        seen = signal;
        return 42;
      }),
    ).resolves.toBe(42);
    expect(seen?.aborted).toBe(true);
    await expect(callWithTimeout(1000, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('refunds, and voids a reference without a recorded charge', async () => {
    await expect(provider.refund({ ...base, providerRef: 'sbx_ch_r1' })).resolves.toMatchObject({ status: 'REFUNDED' });
    await expect(provider.refund({ ...base, providerRef: null, amount: null })).resolves.toMatchObject({ status: 'REFUNDED' });
  });
});
