/**
 * Issue 12 #11: no test asserts wall-clock time (HOUSE-STYLE, Tests), because a busy machine, or a
 * second suite on the same two cores, makes such a test fail. Work is bounded in CPU time
 * (test/support/cpu.ts) or by counts; timings live in bench/. A crash test kills after a counted
 * number of acknowledged writes, never after a timer. This scans the test tree for the patterns.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const SELF = fileURLToPath(import.meta.url);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? files(join(dir, e.name))
      : e.name.endsWith('.ts') && join(dir, e.name) !== SELF
        ? [join(dir, e.name)]
        : [],
  );
}

const CLOCK = String.raw`(?:performance\.now|Date\.now|process\.hrtime(?:\.bigint)?)\(\)`;

/** The argument text of the `expect(` at `at` (to its closing parenthesis or the line's end). */
function expectArgument(line: string, at: number): string {
  let depth = 0;
  for (let i = at + 'expect'.length; i < line.length; i++) {
    if (line[i] === '(') depth++;
    else if (line[i] === ')' && --depth === 0) return line.slice(at, i + 1);
  }
  return line.slice(at);
}

/** The names `(const|let) name = <clock read><after>` assigns. */
function assignedFromClock(source: string, after: string): string[] {
  const assigned = new RegExp(String.raw`(?:const|let)\s+(\w+)\s*=\s*${CLOCK}${after}`, 'gm');
  return [...source.matchAll(assigned)].map((m) => m[1] ?? '').filter(Boolean);
}

/**
 * `file:line` of every `expect(...)` whose argument is a wall-clock duration: a clock read minus
 * something, something minus a start time read from a clock, or a variable holding such a
 * difference. A clock read alone (a certificate's validity against now) is not a duration.
 */
function wallClockAssertions(path: string, source: string): string[] {
  const starts = assignedFromClock(source, String.raw`\s*(?:;|$)`);
  const elapsed = assignedFromClock(source, String.raw`\s*-`);
  const duration = new RegExp(
    [
      String.raw`${CLOCK}\s*-`,
      ...starts.map((name) => String.raw`-\s*${name}\b`),
      ...elapsed.map((name) => String.raw`\b${name}\b`),
    ].join('|'),
  );
  const found: string[] = [];
  source.split('\n').forEach((line, i) => {
    for (const m of line.matchAll(/\bexpect\(/g))
      if (duration.test(expectArgument(line, m.index)))
        found.push(`${path}:${i + 1}: ${line.trim()}`);
  });
  return found;
}

const sources = files(ROOT).map((f) => [relative(ROOT, f), readFileSync(f, 'utf8')] as const);

describe('issue 12 #11: tests bound work, not wall-clock time', () => {
  test('fail/no test asserts a wall-clock duration', () => {
    expect(sources.flatMap(([path, source]) => wallClockAssertions(path, source))).toEqual([]);
  });

  test('fail/no crash test picks its SIGKILL moment with a timer', () => {
    const timed = sources
      .filter(([path, source]) => path.endsWith('.test.ts') && source.includes("'SIGKILL'"))
      .filter(([, source]) => /setTimeout\(/.test(source))
      .map(([path]) => path);
    expect(timed).toEqual([]);
  });

  test.each([
    ['const t0 = performance.now();\nrun();\nexpect(performance.now() - t0).toBeLessThan(9);', 1],
    ['const started = Date.now();\nexpect(Date.now() - started).toBeLessThan(2000);', 1],
    ['const { ms } = cpuTime(run);\nexpect(ms).toBeLessThan(200);', 0],
    ['const until = Date.now() + 10;\nwhile (Date.now() < until) poll();\nexpect(x).toBe(1);', 0],
    ['expect(cert.notAfter.getTime()).toBeLessThan(Date.now());', 0],
    ['expect(await purge(new Date(Date.now() + 60_000))).toBe(4500);', 0],
    ['const t0 = Date.now();\nconst t1 = Date.now();\nexpect(t1 - t0).toBeLessThan(5);', 1],
    ['const elapsed = performance.now() - t0;\nexpect(elapsed).toBeLessThan(5);', 1],
  ])('ok/the scan flags clock reads inside expect (%#)', (source, count) => {
    expect(wallClockAssertions('x.ts', source)).toHaveLength(count);
  });
});
