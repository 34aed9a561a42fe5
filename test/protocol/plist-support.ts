/** Helpers shared by the plist tests: a raw bplist00 builder and an error-code probe. */
import { PlistError } from '../../src/errors.js';

/** Trailer fields a test may falsify; everything else is computed from `objects`. */
export interface BplistOverrides {
  top?: number;
  count?: bigint;
  table?: bigint;
  offsetSize?: number;
  refSize?: number;
  offsets?: number[];
}

/**
 * Lays out raw object bytes as a binary plist: header, objects, offset table, trailer.
 * References inside `objects` are single bytes, so `refSize` defaults to 1.
 */
export function bplist(objects: readonly number[][], o: BplistOverrides = {}): Buffer {
  const parts: Buffer[] = [Buffer.from('bplist00', 'latin1')];
  const offsets: number[] = [];
  let pos = 8;
  for (const obj of objects) {
    offsets.push(pos);
    parts.push(Buffer.from(obj));
    pos += obj.length;
  }
  const offsetSize = o.offsetSize ?? 4;
  const table = Buffer.alloc(objects.length * offsetSize);
  (o.offsets ?? offsets).forEach((off, i) => {
    if (offsetSize > 0) table.writeUIntBE(off, i * offsetSize, Math.min(offsetSize, 6));
  });
  parts.push(table);
  const trailer = Buffer.alloc(32);
  trailer[6] = offsetSize;
  trailer[7] = o.refSize ?? 1;
  trailer.writeBigUInt64BE(o.count ?? BigInt(objects.length), 8);
  trailer.writeBigUInt64BE(BigInt(o.top ?? 0), 16);
  trailer.writeBigUInt64BE(o.table ?? BigInt(pos), 24);
  parts.push(trailer);
  return Buffer.concat(parts);
}

/** The `code` of the PlistError `fn` throws, or a description of what happened instead. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof PlistError) return err.code;
    return `not a PlistError: ${String(err)}`;
  }
  return 'no error';
}
