export * from './provider.js';
export * from './sandbox.js';
