/** The in-memory storage adapter: for tests, examples and single-process embedding. */
import type { MdmStorage, RetentionOptions } from '../ports.js';
import { startRetentionSweep } from '../support.js';
import { memoryCheckin, memoryDeviceSecrets } from './checkin.js';
import { memoryCommands } from './commands.js';
import { memoryOutbox } from './outbox.js';
import { createState } from './state.js';

export { createMemoryAdminStorage, type MemoryAdminStorageOptions } from './admin.js';
export { createMemoryAcmeStore, type MemoryAcmeStore } from './acme.js';
export { createMemoryAcmeClientIdStore, type MemoryAcmeClientIdStore } from './acme-identifiers.js';
export { createMemoryCaStorage, type MemoryCaStorage } from './ca.js';

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /** Source of the timestamps the store writes itself; default `() => new Date()`. */
  clock?: () => Date;
  /** Periodic purge of finished rows; none by default. */
  retention?: RetentionOptions;
}

/**
 * An {@link MdmStorage} held in process memory, lost on exit. It implements every port with
 * the same semantics as the SQLite adapter (both pass one conformance suite); after `close()`
 * every call rejects with StorageError.
 */
export function createMemoryStorage(options: MemoryStorageOptions = {}): MdmStorage {
  const clock = options.clock ?? (() => new Date());
  const state = createState(clock);
  const commands = memoryCommands(state);
  const outbox = memoryOutbox(state);
  const stopSweep = startRetentionSweep({ ...commands, ...outbox }, options.retention, clock);
  return {
    ...memoryCheckin(state),
    ...memoryDeviceSecrets(state),
    ...commands,
    ...outbox,
    close() {
      stopSweep();
      state.closed = true;
      return Promise.resolve();
    },
  };
}
