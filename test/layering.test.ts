/**
 * The import graph of src/ between folders: no cycles, and imports point inward (the layering of
 * HOUSE-STYLE.md). ESLint's `no-restricted-imports` rules (eslint.config.js) stop a wrong import
 * in the editor; this test proves the whole graph, including cycles a per-file rule cannot see.
 */
import { describe, expect, test } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SRC = resolve('src');

/** Static imports and re-exports (type-only ones included: a type cycle is still a cycle). */
const IMPORT = /^\s*(?:import|export)\b[^'";]*?\bfrom\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm;

/** Folders that are layers of their own: adapters and the parts they implement. */
const SPLIT = new Set(['storage', 'push', 'http', 'identity']);

/** The node a file belongs to: `storage/sqlite`, `service`, or a top-level file like `errors`. */
function nodeOf(file: string): string {
  const parts = relative(SRC, file).split(sep);
  if (parts.length === 1) return (parts[0] ?? '').replace(/\.ts$/, '');
  const [top = '', sub = ''] = parts;
  return SPLIT.has(top) && parts.length > 2 ? `${top}/${sub}` : top;
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

interface Edge {
  from: string;
  to: string;
  file: string;
  spec: string;
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of files(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? '';
      if (!spec.startsWith('.')) continue;
      const target = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      const from = nodeOf(file);
      const to = nodeOf(target);
      if (from !== to) out.push({ from, to, file: relative(SRC, file), spec });
    }
  }
  return out;
}

/** Every cycle's nodes, found by depth-first search (each cycle reported once, from its start). */
function cycles(graph: Map<string, Set<string>>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

const ALL = edges();
const GRAPH = new Map<string, Set<string>>();
for (const e of ALL) {
  const set = GRAPH.get(e.from) ?? new Set<string>();
  set.add(e.to);
  GRAPH.set(e.from, set);
}

/** What each layer may import of ours; anything else is a wrong-way import. */
const BOTTOM = ['errors', 'logger'];
const CORE_PORTS = [...BOTTOM, 'protocol', 'crypto', 'schema', 'storage', 'push'];
const ALLOWED: Record<string, readonly string[]> = {
  errors: [],
  logger: [],
  protocol: BOTTOM,
  crypto: BOTTOM,
  schema: [...BOTTOM, 'protocol'],
  storage: [...BOTTOM, 'protocol'],
  push: [...BOTTOM, 'protocol'],
  mail: [...BOTTOM],
  profile: [...BOTTOM, 'protocol', 'crypto', 'schema'],
  identity: [...CORE_PORTS],
  'identity/ca': [...CORE_PORTS, 'identity'],
  'identity/scep': [...CORE_PORTS, 'identity', 'identity/ca'],
  service: [...CORE_PORTS, 'identity', 'identity/ca', 'profile'],
  // The ACME server issues through the CA; the edge (http) and the composition (server) import it.
  acme: [...CORE_PORTS, 'identity', 'identity/ca'],
  // Delivery queues through the MDM core and listens to its events: management sits above it.
  management: [...CORE_PORTS, 'profile', 'mail', 'service'],
  admin: [
    ...CORE_PORTS,
    'identity',
    'identity/ca',
    'identity/scep',
    'profile',
    'service',
    'management',
  ],
  sim: [
    ...BOTTOM,
    'protocol',
    'crypto',
    'schema',
    'profile',
    'identity',
    'identity/scep',
    'identity/ca',
  ],
};

describe('the import graph of src/', () => {
  test('ok/no cycles between folders', () => {
    expect(cycles(GRAPH).map((c) => c.join(' -> '))).toEqual([]);
  });

  test.each(Object.entries(ALLOWED))('ok/%s imports only what is below it', (node, allowed) => {
    const wrong = ALL.filter((e) => e.from === node && !allowed.includes(e.to)).map(
      (e) => `${e.file} imports ${e.spec}`,
    );
    expect(wrong).toEqual([]);
  });

  test('ok/adapters never import each other', () => {
    const adapters = ['storage/memory', 'storage/sqlite', 'storage/postgres', 'push/apns', 'http'];
    const wrong = ALL.filter(
      (e) => adapters.includes(e.from) && adapters.includes(e.to) && !e.to.startsWith(e.from),
    ).map((e) => `${e.file} imports ${e.spec}`);
    expect(wrong).toEqual([]);
  });

  test('ok/nothing in the library imports the daemon or the CLI', () => {
    const wrong = ALL.filter(
      (e) => !['daemon', 'cli'].includes(e.from) && ['daemon', 'cli'].includes(e.to),
    ).map((e) => `${e.file} imports ${e.spec}`);
    expect(wrong).toEqual([]);
  });

  test('ok/server/ composes the library: it imports no daemon or CLI, only they import it', () => {
    const wrong = ALL.filter(
      (e) =>
        (e.from === 'server' && ['daemon', 'cli'].includes(e.to)) ||
        (e.to === 'server' && !['daemon', 'cli'].includes(e.from)),
    ).map((e) => `${e.file} imports ${e.spec}`);
    expect(wrong).toEqual([]);
  });

  test('fail/the cycle finder sees a planted cycle', () => {
    const planted = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
    ]);
    expect(cycles(planted)).toEqual([['a', 'b', 'c', 'a']]);
  });
});
