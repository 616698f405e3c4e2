export * from './target.js';
export * from './x86_64.js';
export * from './live.js';
export * from './dump/index.js';
