/** Turns the usages collected by a walk into issues for one target. */
import type { ValidationIssue } from '../errors.js';
import type { Target } from './target.js';
import { findingsFor } from './target.js';
import type { Usage } from './walk.js';

/**
 * Issues of `usages` on `target`. A place reports only findings its parent does not
 * already have, so a supervised-only payload does not repeat that for every key.
 */
export function judgeUsages(usages: readonly Usage[], target: Target): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const u of usages) {
    const findings = findingsFor(u.table, target);
    if (u.kind === 'missing') {
      if (!findings.some((f) => f.severity === 'error')) {
        out.push({
          path: u.path,
          code: 'missing-key',
          message: `required key ${u.label} is missing on ${target.platform}`,
          severity: 'error',
        });
      }
      continue;
    }
    const inherited = new Set(u.parent ? findingsFor(u.parent, target).map((f) => f.code) : []);
    for (const f of findings) {
      if (!inherited.has(f.code))
        out.push({
          path: u.path,
          code: f.code,
          message: `${u.label} ${f.message}`,
          severity: f.severity,
        });
    }
  }
  return out;
}
