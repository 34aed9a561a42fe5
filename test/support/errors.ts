/** Test helper for asserting which typed error a call throws. */
import { OrchardError } from '../../src/errors.js';

/**
 * Runs `fn` and returns the `code` of the {@link OrchardError} it throws. Rethrows anything
 * else, and fails when nothing is thrown, so a test using it cannot pass by accident.
 */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof OrchardError) return error.code;
    throw error;
  }
  throw new Error('expected an OrchardError, nothing was thrown');
}
