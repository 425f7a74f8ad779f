/**
 * Validation of `createStore` input. Every rule names its field
 * (`"<field>: <rule>"`, `extensions.field`), per docs/ARCHITECTURE.md.
 * Text is trimmed before its length is checked; a blank address counts as none.
 */
import { badInput } from '@rental/errors';
import { isStoreId } from './ids.js';

export const MAX_NAME_LENGTH = 100;
export const MAX_CITY_LENGTH = 100;
export const MAX_ADDRESS_LENGTH = 300;

export interface CreateStoreInput {
  id?: string | null;
  name: string;
  city: string;
  address?: string | null;
}

/** A checked store: trimmed, with `id` only when the caller chose one. */
export interface ValidStoreInput {
  id?: string;
  name: string;
  city: string;
  address: string | null;
}

function requiredText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') throw badInput(field, 'is required');
  const text = value.trim();
  if (text.length === 0) throw badInput(field, 'must not be blank');
  if (text.length > max) throw badInput(field, `must have at most ${max} characters`);
  return text;
}

export function validateCreateStore(input: CreateStoreInput): ValidStoreInput {
  const out: ValidStoreInput = {
    name: requiredText('name', input.name, MAX_NAME_LENGTH),
    city: requiredText('city', input.city, MAX_CITY_LENGTH),
    address: null,
  };
  if (input.address !== undefined && input.address !== null) {
    if (typeof input.address !== 'string') throw badInput('address', 'must be text');
    const address = input.address.trim();
    if (address.length > MAX_ADDRESS_LENGTH) throw badInput('address', `must have at most ${MAX_ADDRESS_LENGTH} characters`);
    out.address = address.length > 0 ? address : null;
  }
  if (input.id !== undefined && input.id !== null) {
    if (typeof input.id !== 'string' || !isStoreId(input.id)) {
      throw badInput('id', 'must be 1 to 40 letters, digits, "_" or "-"');
    }
    out.id = input.id;
  }
  return out;
}
