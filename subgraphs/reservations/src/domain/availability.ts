/**
 * The answer to a reservation the item's stock cannot serve, when the saga
 * finds that out itself (reading the stock of an item lately sold out)
 * rather than from items' refused hold: the same code, message and details
 * items answers, so a client sees one answer for one situation.
 */
import { DomainError } from '@rental/errors';

export function insufficientStock(itemId: string, requested: number, available: number): DomainError {
  return new DomainError('INSUFFICIENT_STOCK', `item ${itemId} has ${available} unit(s) in stock, ${requested} requested`, {
    dependency: 'items',
  });
}
