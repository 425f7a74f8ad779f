import { describe, expect, it } from 'vitest';
import { emptyFacts, type ViewFacts } from './customer-view.js';
import { applyDiff, changeKey, diffFacts, replay, type ViewChange } from './view-changes.js';

const v1: ViewFacts = {
  ...emptyFacts('r1'),
  customerId: 'c1',
  itemId: 'i1',
  itemName: 'Drone',
  storeId: 's1',
  quantity: 1,
  startDate: '2030-01-01',
  endDate: '2030-01-03',
  totalPrice: 2000,
  createdAt: '2029-12-01T00:00:00.000Z',
  status: 'CONFIRMED',
  history: { PENDING: { at: '2029-12-01T00:00:00.000Z', reason: null }, CONFIRMED: { at: '2029-12-01T00:00:01.000Z', reason: null } },
};
const v2: ViewFacts = { ...v1, storeOrder: { id: 'o1', status: 'PENDING' } };
const v3: ViewFacts = {
  ...v2,
  status: 'READY_FOR_PICKUP',
  storeOrder: { id: 'o1', status: 'READY' },
  history: { ...v2.history, READY_FOR_PICKUP: { at: '2029-12-02T00:00:00.000Z', reason: 'store order prepared' } },
};

describe('view change log', () => {
  it('the first diff holds every fact; later ones only what changed', () => {
    expect(Object.keys(diffFacts(null, v1)).sort()).toEqual(Object.keys(v1).filter((k) => k !== 'reservationId').sort());
    expect(diffFacts(v1, v2)).toEqual({ storeOrder: { id: 'o1', status: 'PENDING' } });
    expect(Object.keys(diffFacts(v2, v3)).sort()).toEqual(['history', 'status', 'storeOrder']);
    expect(diffFacts(v3, v3)).toEqual({});
  });

  it('applying the diffs in order rebuilds every version, and never changes its input', () => {
    const base = emptyFacts('r1');
    const frozen = JSON.stringify(base);
    expect(applyDiff(applyDiff(applyDiff(base, diffFacts(null, v1)), diffFacts(v1, v2)), diffFacts(v2, v3))).toEqual(v3);
    expect(JSON.stringify(base)).toBe(frozen);
  });

  it('replay answers the versions after a point, up to the last one logged, and stops at a missing entry', () => {
    const changes: Record<string, ViewChange> = {
      [changeKey(1)]: { sequence: 10, updatedAt: 't1', diff: diffFacts(null, v1) },
      [changeKey(2)]: { sequence: 12, updatedAt: 't2', diff: diffFacts(v1, v2) },
      [changeKey(3)]: { sequence: 15, updatedAt: 't3', diff: diffFacts(v2, v3) },
    };
    const snap = (f: ViewFacts, version: number, c: ViewChange) => ({ version, sequence: c.sequence, status: f.status, order: f.storeOrder.status });
    expect(replay('r1', changes, 0, 3, snap)).toEqual([
      { version: 1, sequence: 10, status: 'CONFIRMED', order: null },
      { version: 2, sequence: 12, status: 'CONFIRMED', order: 'PENDING' },
      { version: 3, sequence: 15, status: 'READY_FOR_PICKUP', order: 'READY' },
    ]);
    expect(replay('r1', changes, 2, 3, snap).map((s) => s.version)).toEqual([3]);
    expect(replay('r1', changes, 1, 2, snap).map((s) => s.version)).toEqual([2]);
    const { [changeKey(2)]: _gone, ...holed } = changes;
    expect(replay('r1', holed, 0, 3, snap).map((s) => s.version)).toEqual([1]);
  });
});
