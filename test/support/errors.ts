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

/**
 * Runs `fn` and returns the error of class `type` it throws. Rethrows anything else, and fails
 * when nothing is thrown, so a test using it cannot pass by accident.
 */
export function thrownBy<E extends Error>(
  fn: () => unknown,
  type: abstract new (...args: never[]) => E,
): E {
  try {
    fn();
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, nothing was thrown`);
}

/** Awaits `promise` and returns its rejection of class `type`, as {@link thrownBy} does. */
export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof type) return error;
    throw error;
  }
  throw new Error(`expected a ${type.name}, nothing was rejected`);
}
