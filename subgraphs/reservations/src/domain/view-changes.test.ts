import { describe, expect, it } from 'vitest';
import { emptyFacts, type ViewFacts } from './customer-view.js';
import { changeKey, replay, undoOf, type ViewChange } from './view-changes.js';

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

const log: Record<string, ViewChange> = {
  [changeKey(1)]: { sequence: 10, updatedAt: 't1', undo: undoOf(null, v1) },
  [changeKey(2)]: { sequence: 12, updatedAt: 't2', undo: undoOf(v1, v2) },
  [changeKey(3)]: { sequence: 15, updatedAt: 't3', undo: undoOf(v2, v3) },
};
const snap = (f: ViewFacts, version: number, c: ViewChange) => ({ version, sequence: c.sequence, facts: f });

describe('view change log', () => {
  it('an entry holds only the changed fields, as they were before; version 1 has none', () => {
    expect(log[changeKey(1)]!.undo).toBeNull();
    expect(log[changeKey(2)]!.undo).toEqual({ storeOrder: { id: null, status: null } });
    expect(Object.keys(log[changeKey(3)]!.undo!).sort()).toEqual(['history', 'status', 'storeOrder']);
    expect(log[changeKey(3)]!.undo!.status).toBe('CONFIRMED');
    expect(undoOf(v3, v3)).toEqual({});
  });

  it('replay rebuilds every version from the current facts, in version order, without changing its input', () => {
    const frozen = JSON.stringify(v3);
    expect(replay(v3, 3, log, 0, 3, snap)).toEqual([
      { version: 1, sequence: 10, facts: v1 },
      { version: 2, sequence: 12, facts: v2 },
      { version: 3, sequence: 15, facts: v3 },
    ]);
    expect(JSON.stringify(v3)).toBe(frozen);
  });

  it('replay answers only the versions after a point and up to another', () => {
    expect(replay(v3, 3, log, 2, 3, snap).map((s) => s.version)).toEqual([3]);
    expect(replay(v3, 3, log, 1, 2, snap)).toEqual([{ version: 2, sequence: 12, facts: v2 }]);
    expect(replay(v3, 3, log, 3, 3, snap)).toEqual([]);
  });

  it('a missing entry ends the walk back (nothing older is invented)', () => {
    const { [changeKey(2)]: _gone, ...holed } = log;
    expect(replay(v3, 3, holed, 0, 3, snap).map((s) => s.version)).toEqual([3]);
  });
});
