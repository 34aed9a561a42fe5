/**
 * `bin/orchard` picks dist/ or src/ by modification times, never by the clock: each case lays out
 * a tiny checkout in a temporary folder (a copy of the real bin, a dist/ and a src/ whose `main`
 * only print where they run from) and sets every mtime explicitly. The build's own stamp, written
 * by the `prebuild`/`postbuild` scripts around `tsc`, is checked with a stand-in `tsc`.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const repo = resolve('.');
let base: string;
let count = 0;

function run(file: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((done) => {
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() };
    execFile(file, args, { cwd, env }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      done({ code, stdout, stderr });
    });
  });
}

function put(path: string, text: string, mtimeSeconds: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  utimesSync(path, mtimeSeconds, mtimeSeconds);
}

interface Layout {
  /** mtime of src/cli/main.ts (and of src/ and src/cli/); absent: no src/. */
  src?: number;
  /** mtime of dist/cli/main.js; absent: no dist/. */
  dist?: number;
  /** mtime of dist/.build-stamp; absent: no stamp. */
  stamp?: number;
  /** Link node_modules (and so tsx) from the checkout. */
  tsx: boolean;
}

function checkout(layout: Layout): string {
  const root = join(base, `c${++count}`);
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(join(repo, 'bin', 'orchard'), join(root, 'bin', 'orchard'));
  writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
  if (layout.tsx) symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'));
  if (layout.dist !== undefined) {
    const main = 'export async function main(argv) { console.log("dist", ...argv); return 0; }\n';
    put(join(root, 'dist', 'cli', 'main.js'), main, layout.dist);
  }
  if (layout.stamp !== undefined) put(join(root, 'dist', '.build-stamp'), '', layout.stamp);
  if (layout.src !== undefined) {
    const main =
      'export async function main(argv: string[]): Promise<number> {\n' +
      '  console.log("src", ...argv);\n  return 0;\n}\n';
    put(join(root, 'src', 'cli', 'main.ts'), main, layout.src);
    utimesSync(join(root, 'src', 'cli'), layout.src, layout.src);
    utimesSync(join(root, 'src'), layout.src, layout.src);
  }
  return root;
}

const orchardIn = (root: string, ...args: string[]): Promise<Run> =>
  run(process.execPath, [join(root, 'bin', 'orchard'), ...args], root);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'orchard-bin-'));
});
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('bin/orchard chooses what to run', () => {
  const T = 1_700_000_000;
  test.each([
    [
      'ok/dist built after the last change to src runs dist',
      { src: T, dist: T + 20, stamp: T + 10, tsx: true },
      'dist',
    ],
    [
      'ok/a src file changed after the build runs src through tsx',
      { src: T + 20, dist: T + 20, stamp: T + 10, tsx: true },
      'src',
    ],
    [
      'ok/a dist without the build stamp (plain tsc) runs src',
      { src: T, dist: T + 20, tsx: true },
      'src',
    ],
    ['ok/no dist runs src', { src: T, tsx: true }, 'src'],
    ['ok/no src (the published package) runs dist without tsx', { dist: T, tsx: false }, 'dist'],
  ] as [string, Layout, string][])(
    '%s',
    async (_name, layout, where) => {
      const r = await orchardIn(checkout(layout), 'a', 'b');
      expect(r).toEqual({ code: 0, stdout: `${where} a b\n`, stderr: '' });
    },
    60_000,
  );

  test('ok/a file removed from src after the build (its folder changed) runs src', async () => {
    const root = checkout({ src: T, dist: T + 20, stamp: T + 10, tsx: true });
    utimesSync(join(root, 'src', 'cli'), T + 30, T + 30);
    expect((await orchardIn(root)).stdout).toBe('src\n');
  }, 60_000);

  test('ok/without tsx a stale dist still runs, with a warning naming the fix', async () => {
    const r = await orchardIn(checkout({ src: T + 20, dist: T, stamp: T, tsx: false }), 'x');
    expect([r.code, r.stdout]).toEqual([0, 'dist x\n']);
    expect(r.stderr).toMatch(/^orchard: .*tsx.*npm run build/);
  }, 60_000);

  test('fail/without tsx or dist it says what to install and exits 1', async () => {
    const r = await orchardIn(checkout({ src: T, tsx: false }));
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^orchard: dist\/ is not built and tsx .*npm install/);
  }, 60_000);
});

describe('npm run build stamps dist/ with the time it started', () => {
  /** A checkout whose `tsc` is a stand-in: it records whether a stamp existed, writes one output. */
  function buildCheckout(tscExit: number): string {
    const root = join(base, `b${++count}`);
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const { prebuild, build, postbuild } = pkg.scripts;
    mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
    writeFileSync(
      join(root, 'package.json'),
      JSON.stringify({ name: 'b', type: 'module', scripts: { prebuild, build, postbuild } }),
    );
    const tsc = join(root, 'node_modules', '.bin', 'tsc');
    writeFileSync(
      tsc,
      '#!/bin/sh\n[ -e dist/.build-stamp ] && echo stale-stamp-seen > dist/seen\n' +
        `echo built > dist/out.js\nexit ${tscExit}\n`,
      { mode: 0o755 },
    );
    // An old stamp from an earlier build: it must be gone while tsc runs.
    put(join(root, 'dist', '.build-stamp'), '', 1_000_000_000);
    return root;
  }

  test('ok/the stamp appears after tsc succeeds, dated no later than its output', async () => {
    const root = buildCheckout(0);
    const r = await run('npm', ['run', 'build', '--silent'], root);
    expect(r.code).toBe(0);
    expect(existsSync(join(root, 'dist', 'seen'))).toBe(false);
    const stamp = statSync(join(root, 'dist', '.build-stamp')).mtimeMs;
    expect(stamp).toBeLessThanOrEqual(statSync(join(root, 'dist', 'out.js')).mtimeMs);
    expect(stamp).toBeGreaterThan(1_000_000_000_000);
  }, 60_000);

  test('fail/a failed tsc leaves no stamp, so bin/orchard keeps running src', async () => {
    const root = buildCheckout(2);
    const r = await run('npm', ['run', 'build', '--silent'], root);
    expect(r.code).not.toBe(0);
    expect(existsSync(join(root, 'dist', 'out.js'))).toBe(true);
    expect(existsSync(join(root, 'dist', '.build-stamp'))).toBe(false);
  }, 60_000);
});
