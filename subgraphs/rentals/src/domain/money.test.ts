import { describe, expect, it } from 'vitest';
import { DomainError } from '@rental/errors';
import { MAX_AMOUNT, validateAmount, validateQuantity } from './money.js';
import { parsePaymentToken } from './payment-token.js';
import { duplicateChargeSteps } from './payment.js';

function codeAndField(fn: () => unknown): { code?: string; field?: unknown; message?: string } {
  try {
    fn();
    return {};
  } catch (e) {
    const d = e as DomainError;
    return { code: d.code, field: d.details.field, message: d.message };
  }
}

describe('amount', () => {
  it('accepts integers 1..100 000 000', () => {
    expect(validateAmount(1)).toBe(1);
    expect(validateAmount(MAX_AMOUNT)).toBe(100_000_000);
  });
  it.each([0, -5, 100_000_001, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses %s', (v) => {
    expect(codeAndField(() => validateAmount(v))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
  });
  it('names the field in the message', () => {
    expect(codeAndField(() => validateAmount(0)).message).toMatch(/^amount: must be between 1 and 100 000 000$/);
  });
  it('checks quantity', () => {
    expect(validateQuantity(3)).toBe(3);
    expect(codeAndField(() => validateQuantity(0))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'quantity' });
  });
});

describe('payment token', () => {
  it('accepts token-shaped strings, trimmed', () => {
    expect(parsePaymentToken(' tok_approve ')).toBe('tok_approve');
  });
  it.each(['', '   ', 'approve', 'tok_', 'tok_a.b', `tok_${'x'.repeat(200)}`])('refuses %j', (t) => {
    expect(codeAndField(() => parsePaymentToken(t))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'paymentToken' });
  });
});

describe('a charge that meets an existing record', () => {
  it('answers a PAID or REFUNDED record as it is, whatever the provider said this time', () => {
    for (const recorded of ['PAID', 'REFUNDED'] as const) {
      for (const answered of ['PAID', 'DECLINED', 'FAILED'] as const) {
        expect(duplicateChargeSteps(recorded, answered)).toEqual({ giveBack: false, recordOnVoid: null });
      }
    }
  });
  it('gives back money the provider holds for a record that says not paid', () => {
    expect(duplicateChargeSteps('FAILED', 'PAID')).toEqual({ giveBack: true, recordOnVoid: null });
    expect(duplicateChargeSteps('DECLINED', 'PAID')).toEqual({ giveBack: true, recordOnVoid: null });
    expect(duplicateChargeSteps('FAILED', 'FAILED')).toEqual({ giveBack: false, recordOnVoid: null });
    expect(duplicateChargeSteps('DECLINED', 'DECLINED')).toEqual({ giveBack: false, recordOnVoid: null });
  });
  it('a late charge on a VOIDED marker gives a payment back and records what happened', () => {
    expect(duplicateChargeSteps('VOIDED', 'PAID')).toEqual({ giveBack: true, recordOnVoid: 'REFUNDED' });
    expect(duplicateChargeSteps('VOIDED', 'DECLINED')).toEqual({ giveBack: false, recordOnVoid: 'DECLINED' });
    expect(duplicateChargeSteps('VOIDED', 'FAILED')).toEqual({ giveBack: false, recordOnVoid: 'FAILED' });
  });
});
