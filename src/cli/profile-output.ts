/** Shared output of the profile subcommands: issue lists. */
import type { ValidationIssue } from '../index.js';

/** Formats issues one per line: severity, path, code, sentence. */
export function formatIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map(
      (i) => `${i.severity}: ${i.path === '' ? '(profile)' : i.path}: ${i.message} [${i.code}]\n`,
    )
    .join('');
}
