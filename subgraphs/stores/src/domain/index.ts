export * from './store-order.js';
export * from './store-input.js';
export * from './ids.js';
export * from './order-cursor.js';
