export * from './provider.js';
export * from './sandbox.js';
export * from './from-config.js';
