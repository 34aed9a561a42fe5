/** Turns the usages collected by a walk into issues for one target. */
import type { ValidationIssue } from '../errors.js';
import type { OsFacts, Platform } from './facts.js';
import { PLATFORMS } from './facts.js';
import type { Target } from './target.js';
import { findingsFor } from './target.js';
import { compareVersions, isVersion } from './version.js';
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

/** Where a place was deprecated or removed on one platform, by its own marker (not its parent's). */
export interface LifecycleMarker {
  readonly platform: Platform;
  readonly path: string;
  /** Key name, payload type or request type. */
  readonly label: string;
  readonly deprecated?: string;
  readonly removed?: string;
}

function ownMarker(u: Usage, p: Platform, field: 'deprecated' | 'removed'): string | undefined {
  const f = u.table?.[p];
  const v = f?.[field];
  if (v === undefined || !isVersion(v) || compareVersions(v, '0') === 0) return undefined;
  // A marker on a platform where the place (or what holds it) never existed says nothing.
  if (!isVersion(f?.introduced ?? 'n/a')) return undefined;
  if (u.parent !== undefined && !isVersion(u.parent[p]?.introduced ?? 'n/a')) return undefined;
  return u.parent?.[p]?.[field] === v ? undefined : v;
}

/**
 * The `deprecated` and `removed` markers of the places used, one per place and platform, in
 * walk order. Markers inherited unchanged from the parent are left out, so a deprecated payload
 * is listed once, not once per key. Empty when nothing used is deprecated or removed.
 */
export function lifecycleMarkers(usages: readonly Usage[]): LifecycleMarker[] {
  const out: LifecycleMarker[] = [];
  for (const u of usages) {
    if (u.kind !== 'present') continue;
    for (const platform of PLATFORMS) {
      const deprecated = ownMarker(u, platform, 'deprecated');
      const removed = ownMarker(u, platform, 'removed');
      if (deprecated === undefined && removed === undefined) continue;
      out.push({
        platform,
        path: u.path,
        label: u.label,
        ...(deprecated === undefined ? {} : { deprecated }),
        ...(removed === undefined ? {} : { removed }),
      });
    }
  }
  return out;
}

/**
 * Without a target: one warning per place and kind listing every platform and version where it
 * is deprecated (`deprecated`) or removed (`removed`), e.g. "is deprecated since macOS 26.0".
 */
export function judgeLifecycleAnywhere(usages: readonly Usage[]): ValidationIssue[] {
  // An enumerated value shares its key's path, so a place is its path and its label.
  const byPlace = new Map<string, LifecycleMarker[]>();
  for (const m of lifecycleMarkers(usages)) {
    const place = `${m.path}\u0000${m.label}`;
    byPlace.set(place, [...(byPlace.get(place) ?? []), m]);
  }
  const out: ValidationIssue[] = [];
  for (const list of byPlace.values()) {
    const first = list[0];
    if (!first) continue;
    const { path, label } = first;
    const removed = list.flatMap((m) => (m.removed ? [`${m.platform} ${m.removed}`] : []));
    const deprecated = list.flatMap((m) => (m.deprecated ? [`${m.platform} ${m.deprecated}`] : []));
    if (removed.length > 0) {
      const message = `${label} was removed in ${removed.join(', ')}`;
      out.push({ path, code: 'removed', message, severity: 'warning' });
    }
    if (deprecated.length > 0) {
      const message = `${label} is deprecated since ${deprecated.join(', ')}`;
      out.push({ path, code: 'deprecated', message, severity: 'warning' });
    }
  }
  return out;
}
