/**
 * The examples import 'orchard-mdm', which resolves to dist/ (built by `npm install` through
 * `prepare`). In a working checkout dist/ can be older than src/; this rebuilds it once, under a
 * file lock, so suites running in parallel never build twice or read a half-written dist/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

const BUILD_IF_STALE = [
  'if [ ! -f dist/index.js ] || [ -n "$(find src -name "*.ts" -newer dist/index.js | head -n 1)" ];',
  'then npx tsc -p tsconfig.build.json; fi',
].join(' ');

/** Rebuilds dist/ when it is missing or older than any file in src/; waits for a concurrent build. */
export async function ensureDistBuilt(): Promise<void> {
  mkdirSync('.tmp', { recursive: true });
  await run('flock', ['.tmp/dist.lock', 'sh', '-c', BUILD_IF_STALE], { timeout: 170_000 });
}
