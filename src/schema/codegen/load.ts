/**
 * Reads Apple's schema YAML. Anchors are resolved by the `yaml` parser into shared
 * (and, in two files, cyclic) objects; later stages rely on object identity for that.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** A raw key spec as Apple writes it (only the fields the generator reads). */
export interface RawKey {
  key?: unknown;
  type?: unknown;
  presence?: unknown;
  default?: unknown;
  rangelist?: unknown;
  range?: unknown;
  format?: unknown;
  repetition?: unknown;
  subkeytype?: unknown;
  supportedOS?: unknown;
  subkeys?: RawKey[];
}

/** A parsed schema file. */
export interface RawDoc {
  file: string;
  payload: { supportedOS?: unknown } & Record<string, unknown>;
  payloadkeys?: RawKey[];
  responsekeys?: RawKey[];
}

/** Parses `dir/file`; throws on a file without a `payload` block. */
export function loadSchemaFile(dir: string, file: string): RawDoc {
  const doc = parse(readFileSync(join(dir, file), 'utf8'), { maxAliasCount: -1 }) as unknown;
  if (typeof doc !== 'object' || doc === null || !('payload' in doc)) {
    throw new Error(`${file}: no payload block`);
  }
  return { ...(doc as Omit<RawDoc, 'file'>), file };
}

/** Parses every `.yaml` file of `dir`, sorted by file name; throws on a file without a `payload` block. */
export function loadSchemaDir(dir: string): RawDoc[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  return files.map((file) => loadSchemaFile(dir, file));
}
