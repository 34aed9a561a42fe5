/** OS version strings as Apple writes them (`'10.13.4'`, `'17.0'`), compared numerically. */

const VERSION = /^\d+(\.\d+)*$/;

/** Whether `s` is a dotted numeric version such as `17.0` or `10.13.4`. */
export function isVersion(s: string): boolean {
  return VERSION.test(s);
}

/**
 * Compares two dotted versions component by component (missing components are 0);
 * negative when `a < b`, 0 when equal, positive when `a > b`. Throws `TypeError` on a non-version.
 */
export function compareVersions(a: string, b: string): number {
  if (!isVersion(a) || !isVersion(b)) throw new TypeError(`not a version: ${isVersion(a) ? b : a}`);
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}
