export * from './models.js';
export * from './stores-data.js';
export * from './store-orders-data.js';
export * from './order-writer.js';
