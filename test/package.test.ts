/**
 * The package as npm would publish it: `npm pack` of the working tree (dist/ rebuilt first when
 * stale), unpacked into a consumer project in the temporary folder whose node_modules holds only
 * the dependencies the packed package.json declares, linked from this checkout so that nothing is
 * downloaded. tsx, plist and every other devDependency are out of its reach.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ensureDistBuilt } from './support/dist.js';

const run = promisify(execFile);

/** Static imports and re-exports, side-effect imports, `import()`, `createRequire(...)()`. */
const IMPORTS =
  /^\s*(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|^\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)|createRequire\(import\.meta\.url\)\(\s*'([^']+)'\s*\)/gm;

// A possible rebuild of dist/, then tsc over every declaration file, twice.
jest.setTimeout(240_000);

const repo = resolve('.');
const ENTRIES = ['orchard-mdm', 'orchard-mdm/node', 'orchard-mdm/fetch', 'orchard-mdm/sqlite'];

interface PackedPackage {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

let base: string;
let consumer: string;
let installed: string;
let files: string[];
let pkg: PackedPackage;

async function pack(into: string): Promise<string> {
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', into],
    { maxBuffer: 16 << 20 },
  );
  const [result] = JSON.parse(stdout) as [{ filename: string; files: { path: string }[] }];
  files = result.files.map((f) => f.path);
  return join(into, result.filename);
}

function link(name: string): void {
  const to = join(consumer, 'node_modules', name);
  mkdirSync(dirname(to), { recursive: true });
  symlinkSync(join(repo, 'node_modules', name), to);
}

beforeAll(async () => {
  await ensureDistBuilt();
  base = mkdtempSync(join(tmpdir(), 'orchard-package-'));
  const tarball = await pack(base);
  consumer = join(base, 'consumer');
  installed = join(consumer, 'node_modules', 'orchard-mdm');
  mkdirSync(installed, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1']);
  pkg = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackedPackage;
  for (const name of Object.keys(pkg.dependencies)) link(name);
  link('@types/node'); // a Node consumer has it
  writeFileSync(join(consumer, 'package.json'), '{ "name": "consumer", "type": "module" }\n');
}, 240_000);
afterAll(() => {
  rmSync(base, { recursive: true, force: true });
});

describe('the published package', () => {
  test.each([
    ['only strict: true (TypeScript defaults otherwise)', 'defaults', {}],
    ['strict: true with module nodenext', 'nodenext', { module: 'nodenext' }],
  ])('ok/a consumer with %s type-checks every entry', async (_name, id, extra) => {
    const source = ENTRIES.map((e, i) => `import * as e${i} from '${e}';`).join('\n');
    writeFileSync(
      join(consumer, 'consumer.ts'),
      `${source}\nexport const all = [e0, e1, e2, e3];\n`,
    );
    const config = {
      compilerOptions: { strict: true, noEmit: true, ...extra },
      files: ['consumer.ts'],
    };
    const file = join(consumer, `tsconfig.${id}.json`);
    writeFileSync(file, JSON.stringify(config));
    const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    // tsc prints its errors on stdout and exits non-zero.
    const result = await run(process.execPath, [tsc, '-p', file], { cwd: consumer }).catch(
      (error: unknown) => ({ stdout: (error as { stdout?: string }).stdout ?? String(error) }),
    );
    expect(result.stdout).toBe('');
  });

  test('ok/its bin runs dist/ with only the declared dependencies (no tsx)', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(installed, 'bin', 'orchard'), '--version'],
      {
        cwd: consumer,
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    expect(stdout).toBe(`${pkg.version}\n`);
  });

  test('ok/every package dist/ imports is a dependency; tsx and plist are devDependencies', () => {
    const imported = new Set<string>();
    for (const path of files.filter((f) => f.startsWith('dist/') && f.endsWith('.js'))) {
      const text = readFileSync(join(installed, path), 'utf8');
      for (const m of text.matchAll(IMPORTS)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? m[4] ?? '';
        if (spec.startsWith('.') || spec.startsWith('node:')) continue;
        const parts = spec.split('/');
        imported.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec));
      }
    }
    expect([...imported].filter((name) => pkg.dependencies[name] === undefined)).toEqual([]);
    expect(Object.keys(pkg.dependencies)).not.toEqual(expect.arrayContaining(['tsx']));
    expect(Object.keys(pkg.dependencies)).not.toEqual(expect.arrayContaining(['plist']));
    expect(Object.keys(pkg.devDependencies)).toEqual(expect.arrayContaining(['tsx', 'plist']));
  });

  test('ok/a CommonJS consumer can require() every entry (ESM-only, Node 20.19+)', async () => {
    const script = `for (const e of ${JSON.stringify(ENTRIES)}) if (!Object.keys(require(e)).length) process.exit(1);`;
    await expect(run(process.execPath, ['-e', script], { cwd: consumer })).resolves.toBeDefined();
  });

  test('ok/every relative link of the shipped README and docs points at a shipped file', () => {
    const shipped = new Set(files);
    const broken: string[] = [];
    for (const doc of files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(installed, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = (m[1] ?? '').replace(/#.*$/, '');
        if (target === '' || /^[a-z]+:/i.test(target)) continue;
        const path = posix.normalize(posix.join(posix.dirname(doc), target));
        if (!shipped.has(path) && !files.some((f) => f.startsWith(`${path}/`)))
          broken.push(`${doc} → ${m[1] ?? ''}`);
      }
    }
    expect(broken).toEqual([]);
  });

  test('ok/the tarball ships docs/ and leaves out the build stamp and the sources', () => {
    expect(files).toEqual(
      expect.arrayContaining(['README.md', 'LICENSE', 'bin/orchard', 'docs/operations.md']),
    );
    expect(
      files.filter((f) => f.includes('.build-') || f.startsWith('src/') || f.startsWith('test/')),
    ).toEqual([]);
  });
});
