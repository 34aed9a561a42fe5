/** Shared output of the profile subcommands: issue lists and file reading. */
import { readFileSync } from 'node:fs';
import type { ValidationIssue } from '../errors.js';
import { OrchardError } from '../errors.js';

/** Formats issues one per line: severity, path, code, sentence. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map(
      (i) => `${i.severity}: ${i.path === '' ? '(profile)' : i.path}: ${i.message} [${i.code}]\n`,
    )
    .join('');
}

/** Reads a file, or returns an error sentence naming it. */
export function readInput(path: string): Buffer | string {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'error';
    return `cannot read ${path} (${code})`;
  }
}

/** A sentence for an error thrown while handling input: OrchardErrors are the input's fault, anything else is rethrown. */
export function inputProblem(error: unknown): string {
  if (error instanceof OrchardError) return `${error.message} [${error.code}]`;
  throw error;
}
