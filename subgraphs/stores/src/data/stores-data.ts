/** Data access for stores. */
import { Types } from 'mongoose';
import { badInput } from '@rental/errors';
import type { ValidStoreInput } from '../domain/index.js';
import { isDuplicateKey, type StoreDoc, type StoreModel } from './models.js';

/** Most stores `stores` lists; a rental chain has far fewer. */
export const MAX_STORES_LISTED = 1000;

/** Inserts a checked store; a taken id is BAD_USER_INPUT on `id`. */
export async function insertStore(Store: StoreModel, input: ValidStoreInput): Promise<StoreDoc> {
  const _id = input.id ?? new Types.ObjectId().toHexString();
  try {
    const doc = await Store.create({ _id, name: input.name, city: input.city, address: input.address });
    return doc.toObject();
  } catch (err) {
    if (isDuplicateKey(err)) throw badInput('id', `a store with id "${_id}" already exists`);
    throw err;
  }
}

export async function listStores(Store: StoreModel): Promise<StoreDoc[]> {
  return Store.find().sort({ name: 1, _id: 1 }).limit(MAX_STORES_LISTED).lean<StoreDoc[]>();
}

/** Stores by id, in the order of `ids` (null where unknown): the DataLoader batch function. */
export async function storesByIds(Store: StoreModel, ids: readonly string[]): Promise<(StoreDoc | null)[]> {
  const docs = await Store.find({ _id: { $in: [...new Set(ids)] } }).lean<StoreDoc[]>();
  const byId = new Map(docs.map((d) => [d._id, d]));
  return ids.map((id) => byId.get(id) ?? null);
}
