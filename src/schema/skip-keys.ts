/**
 * Setup Assistant skip keys (`skip_setup_items` of an ADE profile), from Apple's
 * `other/skipkeys.yaml`: which exist, and on which platform and OS version each applies.
 */
import type { OsTable } from './facts.js';
import { skipKeyFacts } from './generated/skipkey-facts.js';
import { overlayOs } from './target.js';

function skipKeysEntry(): { table: OsTable | undefined; keys: readonly number[] } {
  const entry = skipKeyFacts.entries.SkipKeys;
  if (!entry) throw new Error('schema has no SkipKeys');
  const table = entry.os === undefined ? undefined : skipKeyFacts.osTables[entry.os];
  return { table, keys: entry.keys };
}

/** Every skip key in Apple's schema, in Apple's order (e.g. `Accessibility`, ..., `Tips`, ...). */
export const SKIP_KEYS: readonly string[] = skipKeysEntry().keys.map(
  (id) => skipKeyFacts.nodes[id]?.key ?? '',
);

/**
 * The effective availability of skip key `name` (its own `supportedOS` laid over the list's),
 * to judge with `findingsFor`; undefined when Apple's schema has no such key.
 */
export function findSkipKey(name: string): OsTable | undefined {
  const { table, keys } = skipKeysEntry();
  const node = keys.map((id) => skipKeyFacts.nodes[id]).find((n) => n?.key === name);
  if (!node) return undefined;
  const own = node.os === undefined ? undefined : skipKeyFacts.osTables[node.os];
  return own ? overlayOs(table, own) : (table ?? {});
}
