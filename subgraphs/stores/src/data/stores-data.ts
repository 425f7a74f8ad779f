/** Data access for stores: the `stores` collection, one document per store. */
import { Types } from 'mongoose';
import { badInput } from '@rental/errors';
import type { ValidStoreInput } from '../domain/index.js';
import { isDuplicateKey, type StoreDoc, type StoreModel } from './models.js';

/** Most stores `stores` lists; a rental chain has far fewer. */
export const MAX_STORES_LISTED = 1000;

/** The reads and writes of the store aggregate, on one connection's model. */
export class StoresData {
  constructor(readonly model: StoreModel) {}

  /** Inserts a checked store; a taken id is BAD_USER_INPUT on `id`. */
  async insert(input: ValidStoreInput): Promise<StoreDoc> {
    const _id = input.id ?? new Types.ObjectId().toHexString();
    try {
      const doc = await this.model.create({ _id, name: input.name, city: input.city, address: input.address });
      return doc.toObject();
    } catch (err) {
      if (isDuplicateKey(err)) throw badInput('id', `a store with id "${_id}" already exists`);
      throw err;
    }
  }

  /** Every store (up to {@link MAX_STORES_LISTED}), by name. */
  async list(): Promise<StoreDoc[]> {
    return this.model.find().sort({ name: 1, _id: 1 }).limit(MAX_STORES_LISTED).lean<StoreDoc[]>();
  }

  /** Stores by id, in the order of `ids` (null where unknown): the DataLoader batch function. */
  async findByIds(ids: readonly string[]): Promise<(StoreDoc | null)[]> {
    const docs = await this.model.find({ _id: { $in: [...new Set(ids)] } }).lean<StoreDoc[]>();
    const byId = new Map(docs.map((d) => [d._id, d]));
    return ids.map((id) => byId.get(id) ?? null);
  }
}
