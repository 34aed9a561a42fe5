/**
 * Single-pass XML property-list decoder. It scans the text with `indexOf` and `charCodeAt`,
 * keeps open containers on an explicit stack (so nesting can never overflow the call stack),
 * expands no entities beyond XML's five and numeric references, and refuses DTD subsets.
 */
import { type DecodeLimits, type PlistDict, type PlistValue, fail, setKey } from './plist-types.js';
import { isSpace, skipMisc, skipProlog, tagAt } from './plist-xml-prolog.js';
import { decodeEntities, parseData, parseDate, parseInteger, parseReal } from './plist-xml-text.js';

const LT = 0x3c;
const GT = 0x3e;
const SLASH = 0x2f;

class Frame {
  key: string | undefined = undefined;
  constructor(
    readonly dict: PlistDict | undefined,
    readonly array: PlistValue[] | undefined,
  ) {}
}

/** Decodes an XML property list held in a string (already checked against `maxBytes`). */
export function decodeXml(text: string, limits: DecodeLimits): PlistValue {
  return new XmlReader(text, limits).document();
}

class XmlReader {
  private pos = 0;
  private items = 0;
  /** Whether the document holds any CR or `&` at all: most do not, so text needs no work. */
  private readonly plainText: boolean;

  constructor(
    private readonly s: string,
    private readonly limits: DecodeLimits,
  ) {
    this.plainText = !s.includes('\r') && !s.includes('&');
  }

  document(): PlistValue {
    if (this.s.charCodeAt(0) === 0xfeff) this.pos = 1;
    this.pos = skipProlog(this.s, this.pos);
    if (!this.s.startsWith('<plist', this.pos)) fail('ERR_PLIST_SYNTAX', 'expected <plist>');
    const gt = this.s.indexOf('>', this.pos);
    const c = this.s.charCodeAt(this.pos + 6);
    if (gt < 0 || this.s.charCodeAt(gt - 1) === SLASH || !(c === GT || isSpace(c))) {
      fail('ERR_PLIST_SYNTAX', 'expected <plist> with one root value');
    }
    this.pos = gt + 1;
    const root = this.values();
    this.skipMisc();
    this.closeTag('plist');
    this.skipMisc();
    if (this.pos !== this.s.length) fail('ERR_PLIST_SYNTAX', 'content after the root element');
    return root;
  }

  private skipMisc(): void {
    this.pos = skipMisc(this.s, this.pos);
  }

  /** Expects `</name>` (whitespace allowed before `>`) at the current position. */
  private closeTag(name: string): void {
    const s = this.s;
    let p = this.pos;
    if (s.charCodeAt(p) !== LT || s.charCodeAt(p + 1) !== SLASH || !s.startsWith(name, p + 2)) {
      fail('ERR_PLIST_SYNTAX', `expected </${name}>`);
    }
    p += 2 + name.length;
    while (isSpace(s.charCodeAt(p))) p++;
    if (s.charCodeAt(p) !== GT) fail('ERR_PLIST_SYNTAX', `expected </${name}>`);
    this.pos = p + 1;
  }

  /** Reads one root value, with every nested container, iteratively. */
  private values(): PlistValue {
    const stack: Frame[] = [];
    for (;;) {
      this.skipMisc();
      const s = this.s;
      const p = this.pos;
      if (s.charCodeAt(p) !== LT) fail('ERR_PLIST_SYNTAX', 'expected an element');
      let value: PlistValue;
      if (s.charCodeAt(p + 1) === SLASH) {
        value = this.closeContainer(stack);
      } else {
        const name = tagAt(s, p + 1);
        const empty = this.openTag(p + 1 + name.length, name);
        if (name === 'dict' || name === 'array') {
          if (!empty) {
            this.open(stack, name);
            continue;
          }
          value = name === 'dict' ? {} : [];
        } else if (name === 'key') {
          this.key(stack, empty);
          continue;
        } else {
          value = this.scalar(name, empty);
        }
      }
      if (++this.items > this.limits.maxItems) fail('ERR_PLIST_TOO_LARGE', 'too many values');
      const top = stack[stack.length - 1];
      if (top === undefined) return value;
      if (top.array !== undefined) top.array.push(value);
      else if (top.key === undefined) fail('ERR_PLIST_SYNTAX', '<dict> value without a <key>');
      else {
        setKey(top.dict as PlistDict, top.key, value);
        top.key = undefined;
      }
    }
  }

  /** Consumes the rest of an open tag after its name; returns whether it was `<name/>`. */
  private openTag(e: number, name: string): boolean {
    const s = this.s;
    while (isSpace(s.charCodeAt(e))) e++;
    const c = s.charCodeAt(e);
    if (c === GT) {
      this.pos = e + 1;
      return false;
    }
    if (c === SLASH && s.charCodeAt(e + 1) === GT) {
      this.pos = e + 2;
      return true;
    }
    return fail('ERR_PLIST_SYNTAX', `malformed or unexpected tag <${name}`);
  }

  private open(stack: Frame[], name: string): void {
    if (stack.length >= this.limits.maxDepth) {
      fail('ERR_PLIST_DEPTH', `nesting deeper than ${this.limits.maxDepth}`);
    }
    stack.push(name === 'dict' ? new Frame({}, undefined) : new Frame(undefined, []));
  }

  private closeContainer(stack: Frame[]): PlistValue {
    const top = stack.pop();
    if (top === undefined) return fail('ERR_PLIST_SYNTAX', 'unexpected closing tag');
    if (top.dict !== undefined) {
      if (top.key !== undefined) fail('ERR_PLIST_SYNTAX', '<key> without a value');
      this.closeTag('dict');
      return top.dict;
    }
    this.closeTag('array');
    return top.array as PlistValue[];
  }

  private key(stack: Frame[], empty: boolean): void {
    const top = stack[stack.length - 1];
    if (top?.dict === undefined || top.key !== undefined) {
      fail('ERR_PLIST_SYNTAX', '<key> outside a <dict> or without a value');
    }
    const key = empty ? '' : this.text('key');
    if (Object.hasOwn(top.dict, key)) fail('ERR_PLIST_SYNTAX', 'duplicate <key>', key);
    top.key = key;
  }

  private scalar(name: string, empty: boolean): PlistValue {
    switch (name) {
      case 'string':
        return empty ? '' : this.text(name);
      case 'integer':
        return parseInteger(empty ? '' : this.text(name));
      case 'real':
        return parseReal(empty ? '' : this.text(name), this.limits.preserveReals);
      case 'true':
      case 'false':
        if (!empty) this.closeTag(name);
        return name === 'true';
      case 'date':
        return parseDate(empty ? '' : this.text(name));
      case 'data':
        return empty ? new Uint8Array(0) : parseData(this.text(name));
      default:
        return fail('ERR_PLIST_SYNTAX', `unknown element <${name}>`);
    }
  }

  /** Reads character data up to `</name>`: entities decoded, line ends normalised, CDATA kept. */
  private text(name: string): string {
    const s = this.s;
    const lt = s.indexOf('<', this.pos);
    if (lt < 0) fail('ERR_PLIST_SYNTAX', `unterminated <${name}>`);
    if (s.charCodeAt(lt + 1) !== SLASH) return this.mixedText(name);
    const raw = s.slice(this.pos, lt);
    this.pos = lt;
    this.closeTag(name);
    return this.plainText ? raw : chars(raw);
  }

  /** Slow path of {@link text}: character data interleaved with comments and CDATA sections. */
  private mixedText(name: string): string {
    const s = this.s;
    let out = '';
    for (;;) {
      const lt = s.indexOf('<', this.pos);
      if (lt < 0) fail('ERR_PLIST_SYNTAX', `unterminated <${name}>`);
      out += chars(s.slice(this.pos, lt));
      if (s.startsWith('<!--', lt)) {
        const end = s.indexOf('-->', lt + 4);
        if (end < 0) fail('ERR_PLIST_SYNTAX', 'unterminated comment');
        this.pos = end + 3;
      } else if (s.startsWith('<![CDATA[', lt)) {
        const end = s.indexOf(']]>', lt + 9);
        if (end < 0) fail('ERR_PLIST_SYNTAX', 'unterminated CDATA section');
        out += normaliseNewlines(s.slice(lt + 9, end));
        this.pos = end + 3;
      } else {
        this.pos = lt;
        this.closeTag(name);
        return out;
      }
    }
  }
}

function normaliseNewlines(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Character data as XML defines it: CR LF and lone CR become LF, then references expand. */
function chars(raw: string): string {
  const text = normaliseNewlines(raw);
  return text.includes('&') ? decodeEntities(text) : text;
}
