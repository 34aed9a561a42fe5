/**
 * `npm run bench`: runs every `bench/*.bench.ts` module (each exports `rows({ scale })`, see
 * bench/lib.ts), each in its own child process, and prints ONE table of their rows: what was
 * measured, its baseline measured in the same run, the value (median of repetitions), the ratio,
 * the goal and whether it was met. The rows and the machine go to JSON for later comparison.
 *
 * `npm run bench -- [names...] [--quick] [--scale N] [--json PATH] [--compare OLD.json]
 * [--against NEW.json] [--verbose] [--list] [--all]`: names select modules by file-name prefix (`push`,
 * `scep`) or rows by id prefix (`checkin.idle`); `--quick` is `--scale 0.1`; `ORCHARD_SCALE`
 * sets the default scale; `--compare` prints each row against an earlier JSON (after this run,
 * or against `--against` without running anything). Each module's own output goes to
 * `.tmp/bench/logs/<module>.log` (or to the terminal with `--verbose`). Modules that export no
 * `rows()` yet run only by name or with `--all`, their tables in their logs.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { cpus, hostname, loadavg, totalmem, type as osType, release } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchRow } from './lib.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const outDir = join(root, '.tmp', 'bench');
/** A module still running after this long is stopped and reported as failed. */
const MODULE_TIMEOUT_MS = Number(process.env.BENCH_MODULE_TIMEOUT_S ?? '600') * 1000;

/** The command line, parsed. */
interface Args {
  names: string[];
  scale: number;
  json?: string;
  compare?: string;
  against?: string;
  verbose: boolean;
  list: boolean;
  all: boolean;
  child?: { file: string; out: string };
}

/** What one module's child process produced. */
interface ModuleResult {
  module: string;
  seconds: number;
  rows: BenchRow[];
  error?: string;
}

/** The JSON a run writes. */
interface RunRecord {
  date: string;
  host: string;
  commit: string;
  dirty: boolean;
  node: string;
  os: string;
  cpus: { count: number; model: string };
  memoryMb: number;
  loadAverage: { start: number[]; end: number[] };
  scale: number;
  command: string;
  seconds: number;
  modules: Omit<ModuleResult, 'rows'>[];
  rows: BenchRow[];
}

function parseArgs(argv: readonly string[]): Args {
  const envScale = process.env.ORCHARD_SCALE;
  const args: Args = {
    names: [],
    scale: envScale === undefined ? 1 : Number(envScale),
    verbose: false,
    list: false,
    all: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') args.scale = 0.1;
    else if (a === '--scale') args.scale = Number(value());
    else if (a === '--json') args.json = value();
    else if (a === '--compare') args.compare = value();
    else if (a === '--against') args.against = value();
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--list') args.list = true;
    else if (a === '--all') args.all = true;
    else if (a === '--child') args.child = { file: value(), out: value() };
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}`);
    else args.names.push(a);
  }
  if (!(args.scale > 0)) throw new Error('the scale must be a positive number');
  return args;
}

/** Every bench module's file name, sorted. */
function moduleFiles(): string[] {
  return readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .sort();
}

/**
 * Whether a module exports `rows()` (checked on its text, without importing it). Modules that do
 * not are run only when named or with `--all`; their own tables go to their logs.
 */
function hasRows(file: string): boolean {
  return /export (async )?function rows\(/.test(readFileSync(join(here, file), 'utf8'));
}

/** The module name of a file: `push.bench.ts` -> `push`. */
const moduleName = (file: string): string => basename(file, '.bench.ts');

/** Which modules to run and which row ids to keep for the names given. */
function select(
  names: readonly string[],
  all: boolean,
): { files: string[]; keep: (id: string) => boolean } {
  const files = moduleFiles();
  if (names.length === 0)
    return { files: all ? files : files.filter((f) => hasRows(f)), keep: () => true };
  const byModule = files.filter((f) => names.some((n) => moduleName(f).startsWith(n)));
  const rowNames = names.filter((n) => !files.some((f) => moduleName(f).startsWith(n)));
  // A row id's first segment names its module exactly, or else starts its name.
  const moduleOf = (n: string): string[] => {
    const head = n.split('.')[0] ?? n;
    const exact = files.filter((f) => moduleName(f) === head);
    return exact.length > 0 ? exact : files.filter((f) => moduleName(f).startsWith(head));
  };
  const byRow = rowNames.flatMap(moduleOf);
  const chosen = [...new Set([...byModule, ...byRow])].sort();
  if (chosen.length === 0) throw new Error(`no bench module or row matches ${names.join(', ')}`);
  const moduleSet = new Set(byModule);
  return {
    files: chosen,
    keep: (id) =>
      rowNames.length === 0 ||
      rowNames.some((n) => id.startsWith(n)) ||
      [...moduleSet].some((f) => id.startsWith(moduleName(f))),
  };
}

/** In the child: imports one module, measures its rows and writes them as JSON to `out`. */
async function runChild(file: string, out: string, scale: number): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as Partial<BenchModule> & {
    default?: () => Promise<void>;
  };
  if (typeof mod.rows !== 'function') {
    // A module not yet converted to rows(): its own tables go to its log, no rows.
    if (typeof mod.default !== 'function') throw new Error(`${file} exports no rows()`);
    await mod.default();
    writeFileSync(out, '[]');
    return;
  }
  const rows = await mod.rows({ scale });
  writeFileSync(out, JSON.stringify(rows));
}

/** Runs one module in a child process; its output goes to a log file unless `verbose`. */
async function runModule(file: string, args: Args): Promise<ModuleResult> {
  const name = moduleName(file);
  const logs = join(outDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const out = join(logs, `${name}.rows.json`);
  writeFileSync(out, '[]');
  const logFile = join(logs, `${name}.log`);
  const log = args.verbose ? 'inherit' : openSync(logFile, 'w');
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--child', file, out],
    {
      cwd: root,
      stdio: ['ignore', log, log],
      env: { ...process.env, ORCHARD_SCALE: String(args.scale) },
      detached: true,
    },
  );
  const timer = setTimeout(() => {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  }, MODULE_TIMEOUT_MS);
  const code = await new Promise<number | null>((r) =>
    child.on('exit', (c) => {
      r(c);
    }),
  );
  clearTimeout(timer);
  // Whatever the module left running in its process group goes with it.
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Nothing was left.
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = JSON.parse(readFileSync(out, 'utf8')) as BenchRow[];
  const result: ModuleResult = { module: name, seconds, rows };
  if (code !== 0) {
    result.error = `exited ${String(code)}${args.verbose ? '' : `, see ${logFile}`}`;
  }
  return result;
}

/** Formats a figure with up to three significant digits past the thousands. */
function num(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 100) return Math.round(n).toLocaleString('en-US');
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(2);
}

/** The ratio as the table shows it. */
const ratioText = (r: number): string =>
  !Number.isFinite(r) ? '–' : r >= 0.1 ? r.toFixed(2) : r.toPrecision(2);

/** Escapes a cell for a Markdown table. */
const cell = (s: string): string => s.replaceAll('|', '\\|');

/** Prints the rows as one Markdown table. */
function printTable(rows: readonly BenchRow[], failed: readonly ModuleResult[]): void {
  console.log('| row | what | baseline (same run) | value | ratio | goal | met |');
  console.log('|---|---|---|---:|---:|---|---|');
  for (const r of rows) {
    const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**';
    console.log(
      `| ${r.id} | ${cell(r.what)} | ${cell(r.baseline)}: ${num(r.baselineValue)} ${r.unit} | ${num(r.value)} ${r.unit} | ${ratioText(r.ratio)} | ${cell(r.goal ?? '')} | ${met} |`,
    );
  }
  for (const f of failed) {
    console.log(`| ${f.module} | FAILED: ${cell(f.error ?? '')} | | | | | **no** |`);
  }
  console.log(
    '\nratio = value / baseline, both measured in this run (medians); for times, CPU and memory lower is better.',
  );
}

/** Prints each row of `now` against the row of the same id in `old`. */
function printComparison(old: RunRecord, now: Pick<RunRecord, 'rows' | 'date'>): void {
  const before = new Map(old.rows.map((r) => [r.id, r]));
  console.log(`\nCompared with ${old.date} (${old.host}, ${old.commit.slice(0, 10)}):\n`);
  console.log('| row | before | now | now / before | ratio before | ratio now | |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of now.rows) {
    const b = before.get(r.id);
    if (b === undefined) {
      console.log(`| ${r.id} | | ${num(r.value)} ${r.unit} | | | ${ratioText(r.ratio)} | new |`);
      continue;
    }
    const change = r.value / b.value;
    // Judge on the same-run ratios: absolute figures move with the machine's load.
    const better = r.higherIsBetter ? r.ratio > b.ratio : r.ratio < b.ratio;
    const moved = Math.abs(r.ratio / b.ratio - 1) > 0.05;
    const verdict = moved ? (better ? 'better' : 'worse') : 'same';
    console.log(
      `| ${r.id} | ${num(b.value)} ${b.unit} | ${num(r.value)} ${r.unit} | ${ratioText(change)} | ${ratioText(b.ratio)} | ${ratioText(r.ratio)} | ${verdict} |`,
    );
  }
  const gone = old.rows.filter((r) => !now.rows.some((n) => n.id === r.id));
  for (const r of gone) console.log(`| ${r.id} | ${num(r.value)} ${r.unit} | | | | | not run |`);
}

function git(...a: string[]): string {
  try {
    return execFileSync('git', a, { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** Newest mtime under `dir`, directories included. */
function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const mtime = entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs;
    if (mtime > newest) newest = mtime;
  }
  return newest;
}

/**
 * Builds dist/ when it is older than src/: `bin/orchard` (which the daemon rows start) runs
 * src/ through tsx otherwise, which would measure tsx's start-up and memory, not Orchard's.
 */
function ensureBuilt(): void {
  const stamp = join(root, 'dist', '.build-stamp');
  if (existsSync(stamp) && statSync(stamp).mtimeMs > newestMtime(join(root, 'src'))) return;
  process.stderr.write('bench: dist/ is older than src/: npm run build ... ');
  execFileSync('npm', ['run', 'build', '--silent'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  process.stderr.write('done\n');
}

/** Runs the modules, prints the table, writes the JSON. */
async function main(args: Args): Promise<number> {
  if (args.list) {
    for (const f of moduleFiles())
      console.log(
        `${moduleName(f)}${hasRows(f) ? '' : ' (not converted to rows(): --all or by name)'}`,
      );
    return 0;
  }
  if (args.compare !== undefined && args.against !== undefined) {
    const old = JSON.parse(readFileSync(args.compare, 'utf8')) as RunRecord;
    printComparison(old, JSON.parse(readFileSync(args.against, 'utf8')) as RunRecord);
    return 0;
  }
  const { files, keep } = select(args.names, args.all);
  ensureBuilt();
  const started = new Date();
  const load0 = loadavg();
  const t0 = performance.now();
  const results: ModuleResult[] = [];
  for (const file of files) {
    process.stderr.write(`bench: ${moduleName(file)} ... `);
    const r = await runModule(file, args);
    r.rows = r.rows.filter((row) => keep(row.id));
    results.push(r);
    process.stderr.write(
      `${String(r.rows.length)} rows in ${r.seconds.toFixed(0)} s${r.error ? ` (FAILED: ${r.error})` : ''}\n`,
    );
  }
  const seconds = (performance.now() - t0) / 1000;
  const rows = results.flatMap((r) => r.rows);
  const failed = results.filter((r) => r.error !== undefined);
  const cpu = cpus();
  const record: RunRecord = {
    date: started.toISOString(),
    host: hostname(),
    commit: git('rev-parse', 'HEAD'),
    dirty: git('status', '--porcelain', '--untracked-files=no') !== '',
    node: process.version,
    os: `${osType()} ${release()}`,
    cpus: { count: cpu.length, model: cpu[0]?.model ?? '' },
    memoryMb: Math.round(totalmem() / 2 ** 20),
    loadAverage: { start: load0, end: loadavg() },
    scale: args.scale,
    command: ['npm run bench --', ...process.argv.slice(2)].join(' '),
    seconds,
    modules: results.map(({ rows: _rows, ...m }) => m),
    rows,
  };
  console.log(
    `\n## npm run bench: ${record.date.slice(0, 16).replace('T', ' ')} UTC, ${record.host}, ` +
      `${String(record.cpus.count)} × ${record.cpus.model}, node ${record.node}, ` +
      `commit ${record.commit.slice(0, 10)}${record.dirty ? ' (modified)' : ''}, scale ${String(args.scale)}, ` +
      `${(seconds / 60).toFixed(1)} min\n`,
  );
  printTable(rows, failed);
  mkdirSync(outDir, { recursive: true });
  const stamp = record.date.replaceAll(':', '').slice(0, 17);
  const paths = [join(outDir, 'latest.json'), join(outDir, `${stamp}-${record.host}.json`)];
  if (args.json !== undefined) paths.push(resolve(args.json));
  for (const p of paths) {
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, `${JSON.stringify(record, null, 2)}\n`);
  }
  console.log(`\nJSON: ${paths.join(', ')}`);
  if (args.compare !== undefined) {
    if (!existsSync(args.compare)) throw new Error(`${args.compare} does not exist`);
    printComparison(JSON.parse(readFileSync(args.compare, 'utf8')) as RunRecord, record);
  }
  return failed.length === 0 ? 0 : 1;
}

const args = parseArgs(process.argv.slice(2));
if (args.child !== undefined) {
  await runChild(args.child.file, args.child.out, args.scale);
  // Modules close what they open; anything left (a timer, a pool) must not hold the run.
  process.exit(0);
} else {
  process.exitCode = await main(args);
}
