/**
 * Errors of the daemon, now defined with every other error in `src/errors.ts`: re-exported here
 * so that existing imports keep working.
 */
export { AdminError, ConfigError, RequestError } from '../errors.js';
export type { AdminErrorCode, AdminErrorOptions } from '../errors.js';
