/**
 * A webhook worker in its own process, for the restart test: `node --import tsx
 * test/service/webhooks-child.ts <db> <url>`. It prints "started" and runs until killed.
 */
import { createOutboxWorker } from '../../src/service/webhooks.js';
import { createSqliteStorage } from '../../src/storage/sqlite/index.js';

const [path, url] = process.argv.slice(2);
if (path === undefined || url === undefined) throw new Error('usage: webhooks-child <db> <url>');
const store = createSqliteStorage({ path });
const worker = createOutboxWorker({
  store,
  url,
  secret: 'restart-secret',
  timeoutMs: 5000,
  leaseMs: 6000,
  batchSize: 5,
  pollIntervalMs: 20,
});
worker.start();
console.log('started');
