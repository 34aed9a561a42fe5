/** Turns the usages collected by a walk into issues for one target. */
import type { ValidationIssue } from '../errors.js';
import type { OsFacts } from './facts.js';
import { PLATFORMS } from './facts.js';
import type { Target } from './target.js';
import { findingsFor } from './target.js';
import { isVersion } from './version.js';
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

function applicable(f: OsFacts | undefined): boolean {
  if (!f?.introduced || !isVersion(f.introduced)) return false;
  if (f.removed !== undefined && isVersion(f.removed)) return false;
  if (f.userenrollment?.mode === 'required' || f.sharedipad?.mode === 'required') return false;
  return f.devicechannel !== false;
}

/**
 * Without a target: a conditionally required key is reported missing when it applies on
 * every platform (device channel, any enrollment) where its parent is available.
 */
export function judgeMissingAnywhere(usages: readonly Usage[]): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const u of usages) {
    if (u.kind !== 'missing' || !u.table) continue;
    const platforms = PLATFORMS.filter((p) => u.parent === undefined || applicable(u.parent[p]));
    if (platforms.length > 0 && platforms.every((p) => applicable(u.table?.[p]))) {
      out.push({
        path: u.path,
        code: 'missing-key',
        message: `required key ${u.label} is missing`,
        severity: 'error',
      });
    }
  }
  return out;
}
