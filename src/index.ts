/**
 * Orchard: an Apple MDM server toolkit. The main entry holds the transport-agnostic
 * library (property lists, crypto, profiles, the MDM core); adapters live under subpaths.
 */
export * from './errors.js';
export { PlistReal, decodePlist, encodePlist } from './protocol/plist.js';
export type {
  DecodePlistOptions,
  EncodePlistOptions,
  PlistDict,
  PlistValue,
} from './protocol/plist.js';
export * from './storage/ports.js';
export { createMemoryStorage } from './storage/memory/index.js';
export type { MemoryStorageOptions } from './storage/memory/index.js';
