/**
 * Every page of the web areas is built with `hono/html`, which escapes each interpolation;
 * `raw()` bypasses that and is allowed only in the files listed here (markup we build
 * ourselves, never data). Adding a file to the list needs a review of what it passes to `raw`.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const WEB = join(ROOT, 'src/http/web');

/** Files allowed to call `raw(` (paths relative to the repository). */
const ALLOWED: readonly string[] = [];

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sources(join(dir, e.name))
      : e.name.endsWith('.ts')
        ? [join(dir, e.name)]
        : [],
  );
}

describe('web templates', () => {
  test('ok/raw() appears only in the allowed files', () => {
    const files = sources(WEB);
    expect(files.length).toBeGreaterThan(5);
    const using = files
      .filter((f) => /\braw\s*\(/.test(readFileSync(f, 'utf8')))
      .map((f) => relative(ROOT, f));
    expect(using.filter((f) => !ALLOWED.includes(f))).toEqual([]);
  });

  test('ok/no page writes inline script or style (the CSP forbids them)', () => {
    for (const f of sources(WEB)) {
      const text = readFileSync(f, 'utf8');
      expect({ file: relative(ROOT, f), script: /<script[\s>]/i.test(text) }).toEqual({
        file: relative(ROOT, f),
        script: false,
      });
      expect({ file: relative(ROOT, f), style: /<style[\s>]|\sstyle="/i.test(text) }).toEqual({
        file: relative(ROOT, f),
        style: false,
      });
    }
  });
});
