/**
 * Rules for a new catalog item. Plain TypeScript: the resolver passes the
 * GraphQL input in, gets a normalized value back or a BAD_USER_INPUT
 * DomainError naming the offending field.
 */
import { badInput } from '@rental/errors';

export const ITEM_LIMITS = {
  nameMax: 200,
  categoryMax: 60,
  descriptionMax: 2000,
  dailyRateMin: 1,
  dailyRateMax: 10_000_000,
  stockMin: 0,
  stockMax: 1_000_000,
  storeIdMax: 128,
} as const;

/** What `registerItem` receives (the GraphQL input type's shape). */
export interface RegisterItemInput {
  storeId: string;
  name: string;
  description?: string | null;
  category: string;
  dailyRate: number;
  stock: number;
}

/** A validated item, ready to store. */
export interface NewItem {
  storeId: string;
  name: string;
  description: string | null;
  category: string;
  dailyRate: number;
  stock: number;
}

function text(field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string') throw badInput(field, 'must be a string');
  const trimmed = value.trim();
  if (trimmed.length < min) throw badInput(field, min === 1 ? 'must not be empty' : `must have at least ${min} characters`);
  if (trimmed.length > max) throw badInput(field, `must have at most ${max} characters`);
  return trimmed;
}

function integer(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw badInput(field, 'must be an integer');
  if (value < min || value > max) throw badInput(field, `must be between ${min} and ${max}`);
  return value;
}

/** Validates and normalizes (trims) a new item; throws BAD_USER_INPUT naming the field. */
export function validateRegisterItem(input: RegisterItemInput): NewItem {
  const storeId = text('storeId', input.storeId, 1, ITEM_LIMITS.storeIdMax);
  const name = text('name', input.name, 1, ITEM_LIMITS.nameMax);
  const category = text('category', input.category, 1, ITEM_LIMITS.categoryMax);
  let description: string | null = null;
  if (input.description !== undefined && input.description !== null) {
    description = text('description', input.description, 0, ITEM_LIMITS.descriptionMax);
    if (description === '') description = null;
  }
  const dailyRate = integer('dailyRate', input.dailyRate, ITEM_LIMITS.dailyRateMin, ITEM_LIMITS.dailyRateMax);
  const stock = integer('stock', input.stock, ITEM_LIMITS.stockMin, ITEM_LIMITS.stockMax);
  return { storeId, name, description, category, dailyRate, stock };
}
