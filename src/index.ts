/**
 * Orchard: an Apple MDM server toolkit. The main entry holds the transport-agnostic
 * library (property lists, crypto, profiles, the MDM core); adapters live under subpaths.
 */
export * from './errors.js';
