// The browser entry: scripts/build-browser.mjs bundles it into dist/public/client.js, served as /client.js.
// It must stay free of zod and node:*: the client imports only types from src/protocol.
export * from './index.js';
