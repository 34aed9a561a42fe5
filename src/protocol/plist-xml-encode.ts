/**
 * XML property-list encoder: builds one string in Apple's layout (XML declaration, Apple DOCTYPE,
 * tab indentation, `<true/>`), keys in the object's own order, so output is stable byte for byte.
 */
import {
  type PlistDict,
  type PlistValue,
  PlistReal,
  checkBigInt,
  dateMs,
  enterContainer,
  fail,
  kindOf,
} from './plist-types.js';

const HEADER =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';

const TABS: string[] = [''];
function tabs(depth: number): string {
  while (TABS.length <= depth) TABS.push(`${TABS[TABS.length - 1] ?? ''}\t`);
  return TABS[depth] ?? '';
}

/** Characters that need work: markup, CR, control characters, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what must be escaped
const NEEDS_ESCAPE = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff]/;

/** Escapes character data; throws `ERR_PLIST_ENCODING` for U+0000 and lone surrogates. */
export function escapeXml(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    let rep: string;
    if (c === 0x26) rep = '&amp;';
    else if (c === 0x3c) rep = '&lt;';
    else if (c === 0x3e) rep = '&gt;';
    else if (c === 0x0d || (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0)) rep = `&#${c};`;
    else if (c === 0) return fail('ERR_PLIST_ENCODING', 'U+0000 cannot be written in XML');
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = text.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) {
        fail('ERR_PLIST_ENCODING', 'string contains a lone surrogate');
      }
      i++;
      continue;
    } else continue;
    out += text.slice(from, i) + rep;
    from = i + 1;
  }
  return out + text.slice(from);
}

/** Formats a real the way the decoder reads it back exactly (shortest round-trip form). */
export function formatReal(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (n === Infinity) return '+infinity';
  if (n === -Infinity) return '-infinity';
  return Object.is(n, -0) ? '-0' : String(n);
}

function formatInteger(n: number | bigint): string {
  if (typeof n === 'bigint') checkBigInt(n);
  return Number.isSafeInteger(n) || typeof n === 'bigint' ? String(n) : BigInt(n).toString();
}

function formatDate(d: Date): string {
  const ms = dateMs(d);
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) fail('ERR_PLIST_TYPE', 'XML dates must fall in years 0000-9999');
  return new Date(ms).toISOString().slice(0, 19) + 'Z';
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Encodes a value as an XML property list string (with trailing newline). */
export function encodeXml(value: PlistValue): string {
  return HEADER + writeValue(value, 0, []) + '</plist>\n';
}

function writeValue(value: PlistValue, depth: number, stack: object[]): string {
  const pad = tabs(depth);
  switch (kindOf(value)) {
    case 'string':
      return `${pad}<string>${escapeXml(value as string)}</string>\n`;
    case 'integer':
      return `${pad}<integer>${formatInteger(value as number | bigint)}</integer>\n`;
    case 'real':
      return `${pad}<real>${formatReal(+(value as number | PlistReal))}</real>\n`;
    case 'true':
      return `${pad}<true/>\n`;
    case 'false':
      return `${pad}<false/>\n`;
    case 'date':
      return `${pad}<date>${formatDate(value as Date)}</date>\n`;
    case 'data':
      return `${pad}<data>${base64(value as Uint8Array)}</data>\n`;
    case 'array':
      return writeArray(value as PlistValue[], depth, stack);
    case 'dict':
      return writeDict(value as PlistDict, depth, stack);
  }
}

function writeArray(array: PlistValue[], depth: number, stack: object[]): string {
  if (array.length === 0) return `${tabs(depth)}<array/>\n`;
  enterContainer(stack, array);
  let out = `${tabs(depth)}<array>\n`;
  for (const item of array) out += writeValue(item, depth + 1, stack);
  stack.pop();
  return `${out}${tabs(depth)}</array>\n`;
}

function writeDict(dict: PlistDict, depth: number, stack: object[]): string {
  enterContainer(stack, dict);
  const inner = tabs(depth + 1);
  let body = '';
  for (const key of Object.keys(dict)) {
    const item = dict[key];
    if (item === undefined) continue;
    body += `${inner}<key>${escapeXml(key)}</key>\n${writeValue(item, depth + 1, stack)}`;
  }
  stack.pop();
  const pad = tabs(depth);
  return body === '' ? `${pad}<dict/>\n` : `${pad}<dict>\n${body}${pad}</dict>\n`;
}
