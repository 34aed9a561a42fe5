/**
 * Lexical helpers of the XML plist decoder: whitespace and comments, the prolog (XML
 * declaration and DOCTYPE, where DTD internal subsets are refused) and element names.
 */
import { fail } from './plist-types.js';

const LT = 0x3c;
const GT = 0x3e;

/** XML whitespace: space, LF, tab, CR. */
export function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function isNameChar(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x21 || c === 0x3f;
}

/** Position after any whitespace and comments starting at `pos`. */
export function skipMisc(s: string, pos: number): number {
  for (;;) {
    while (isSpace(s.charCodeAt(pos))) pos++;
    if (s.charCodeAt(pos) !== LT || !s.startsWith('<!--', pos)) return pos;
    const end = s.indexOf('-->', pos + 4);
    if (end < 0) fail('ERR_PLIST_SYNTAX', 'unterminated comment');
    pos = end + 3;
  }
}

const APPLE_PROLOG =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n';
const ENCODING_ATTR = /encoding\s*=\s*["']([^"']*)["']/;
const UTF8_NAMES = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

/**
 * Position after the XML declaration (UTF-8 only), comments and an optional plist DOCTYPE.
 * Throws `ERR_PLIST_ENCODING` for another declared encoding, `ERR_PLIST_SYNTAX` for a
 * DOCTYPE that is not `plist` or that has an internal subset.
 */
export function skipProlog(s: string, pos: number): number {
  // Fast path for the exact prolog Apple's devices and our encoder write.
  if (s.startsWith(APPLE_PROLOG, pos)) return pos + APPLE_PROLOG.length;
  if (s.startsWith('<?xml', pos) && isSpace(s.charCodeAt(pos + 5))) {
    const end = s.indexOf('?>', pos);
    if (end < 0) fail('ERR_PLIST_SYNTAX', 'unterminated XML declaration');
    const enc = ENCODING_ATTR.exec(s.slice(pos, end));
    if (enc?.[1] !== undefined && !UTF8_NAMES.has(enc[1].toLowerCase())) {
      fail('ERR_PLIST_ENCODING', 'only UTF-8 property lists are accepted', enc[1]);
    }
    pos = end + 2;
  }
  pos = skipMisc(s, pos);
  return s.startsWith('<!DOCTYPE', pos) ? skipMisc(s, doctype(s, pos)) : pos;
}

function doctype(s: string, pos: number): number {
  if (!/^<!DOCTYPE\s+plist[\s>]/.test(s.slice(pos, pos + 16))) {
    fail('ERR_PLIST_SYNTAX', 'only a plist DOCTYPE is accepted');
  }
  let quote = 0;
  for (let i = pos + 9; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 0x22 || c === 0x27) {
      quote = c;
    } else if (c === 0x5b || c === LT) {
      fail('ERR_PLIST_SYNTAX', 'DOCTYPE with an internal subset is refused');
    } else if (c === GT) {
      return i + 1;
    }
  }
  return fail('ERR_PLIST_SYNTAX', 'unterminated DOCTYPE');
}

/** Candidate element names by first letter; literals, so comparisons are by identity. */
const TAGS_BY_LETTER: Readonly<Record<string, readonly string[]>> = {
  k: ['key'],
  s: ['string'],
  i: ['integer'],
  r: ['real'],
  t: ['true'],
  f: ['false'],
  a: ['array'],
  d: ['dict', 'data', 'date'],
};

/**
 * The plist element name starting at `p`, without allocating; for anything else the raw
 * name (so that the error names it).
 */
export function tagAt(s: string, p: number): string {
  const candidates = TAGS_BY_LETTER[s.charAt(p)];
  if (candidates !== undefined) {
    for (const name of candidates) {
      if (s.startsWith(name, p) && !isNameChar(s.charCodeAt(p + name.length))) return name;
    }
  }
  let e = p;
  while (isNameChar(s.charCodeAt(e))) e++;
  return s.slice(p, e);
}
