export { itemModel, itemSchema, type ItemDoc, type HoldDoc, type ItemModel } from './item-model.js';
export { ItemsData, toItem, type Item, type StockHold, type ItemPage } from './items-data.js';
