import { describe, expect, test } from '@jest/globals';
import { codeOf } from './plist-support.js';
import { type PlistValue, PlistReal, decodePlist, encodePlist } from '../../src/protocol/plist.js';

const HEAD =
  '<?xml version="1.0" encoding="UTF-8"?>\n' +
  '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n' +
  '<plist version="1.0">\n';
const doc = (body: string): string => `${HEAD}${body}\n</plist>\n`;

describe('decodePlist XML', () => {
  test.each<[string, string, PlistValue]>([
    ['ok/string', '<string>a &amp; b &lt;c&gt; &quot;&apos;</string>', 'a & b <c> "\''],
    ['ok/numeric references', '<string>&#65;&#x1F34F;&#xe9;</string>', 'A🍏é'],
    ['ok/empty string forms', '<array><string/><string></string></array>', ['', '']],
    ['ok/whitespace kept in string', '<string>  a\tb  </string>', '  a\tb  '],
    ['ok/CR LF normalised', '<string>a\r\nb\rc</string>', 'a\nb\nc'],
    [
      'ok/CDATA and comment inside string',
      '<string>a<![CDATA[<&>]]>b<!-- x -->c</string>',
      'a<&>bc',
    ],
    ['ok/integer', '<integer>42</integer>', 42],
    ['ok/negative integer', '<integer>-17</integer>', -17],
    ['ok/integer with whitespace and plus', '<integer> +7 </integer>', 7],
    ['ok/hex integer', '<integer>0x1F</integer>', 31],
    ['ok/largest safe integer', '<integer>9007199254740991</integer>', 9007199254740991],
    ['ok/2^53 becomes bigint', '<integer>9007199254740992</integer>', 9007199254740992n],
    ['ok/unsigned 64 max', '<integer>18446744073709551615</integer>', 18446744073709551615n],
    ['ok/signed 64 min', '<integer>-9223372036854775808</integer>', -9223372036854775808n],
    ['ok/unsafe negative', '<integer>-9007199254740992</integer>', -9007199254740992n],
    ['ok/real', '<real>1.5</real>', new PlistReal(1.5)],
    ['ok/whole real stays a real by default', '<real>64.0</real>', new PlistReal(64)],
    ['ok/real exponent', '<real>-2.5e-3</real>', new PlistReal(-0.0025)],
    ['ok/real nan', '<real>nan</real>', new PlistReal(NaN)],
    ['ok/real infinity', '<real>-infinity</real>', new PlistReal(-Infinity)],
    ['ok/true and false', '<array><true/><false></false><true /></array>', [true, false, true]],
    ['ok/date', '<date>2024-10-21T08:30:00Z</date>', new Date(Date.UTC(2024, 9, 21, 8, 30, 0))],
    [
      'ok/date fraction',
      '<date>2024-10-21T08:30:00.25Z</date>',
      new Date(Date.UTC(2024, 9, 21, 8, 30, 0, 250)),
    ],
    ['ok/date year 0001', '<date>0001-01-01T00:00:00Z</date>', new Date('0001-01-01T00:00:00Z')],
    ['ok/data', '<data>AQID</data>', new Uint8Array([1, 2, 3])],
    ['ok/data wrapped Apple style', '<data>\n\tAQ\n\tID\n\t</data>', new Uint8Array([1, 2, 3])],
    ['ok/data padded', '<data>AQ==</data>', new Uint8Array([1])],
    [
      'ok/empty data',
      '<array><data/><data></data></array>',
      [new Uint8Array(0), new Uint8Array(0)],
    ],
    ['ok/empty containers', '<array><dict/><array/><dict></dict></array>', [{}, [], {}]],
    [
      'ok/nested',
      '<dict><key>a</key><array><dict><key>b</key><integer>1</integer></dict></array></dict>',
      { a: [{ b: 1 }] },
    ],
    ['ok/empty key', '<dict><key/><string>v</string></dict>', { '': 'v' }],
    [
      'ok/comments between elements',
      '<!-- c --><dict><!-- c --><key>k</key><!-- c --><true/></dict>',
      { k: true },
    ],
  ])('%s', (_name, body, expected) => {
    expect(decodePlist(doc(body))).toEqual(expected);
    expect(decodePlist(Buffer.from(doc(body)))).toEqual(expected);
  });

  test('ok/UTF-8 BOM, no declaration, no DOCTYPE, bare plist tag', () => {
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from('<plist><string>é</string></plist>'),
    ]);
    expect(decodePlist(bytes)).toBe('é');
    expect(decodePlist('\ufeff<plist><true/></plist>')).toBe(true);
  });

  test('ok/by default every real is a PlistReal, and a whole one re-encodes as <real>', () => {
    const text = doc('<array><real>64</real><real>0.5</real><integer>3</integer></array>');
    for (const input of [
      text,
      Buffer.from(text),
      encodePlist(decodePlist(text), { format: 'binary' }),
    ]) {
      const v = decodePlist(input);
      expect(v).toEqual([new PlistReal(64), new PlistReal(0.5), 3]);
      expect(encodePlist(v).toString()).toContain('<real>64</real>');
      expect(decodePlist(input, { preserveReals: true })).toEqual(v);
    }
  });

  test('ok/preserveReals: false opts out: plain numbers, and a whole real becomes an integer', () => {
    const v = decodePlist(doc('<array><real>64.0</real><real>0.5</real></array>'), {
      preserveReals: false,
    });
    expect(v).toEqual([64, 0.5]);
    expect(encodePlist(v).toString()).toContain('<integer>64</integer>');
  });

  test('ok/data does not retain the input buffer', () => {
    const input = Buffer.from(doc('<data>AQIDBA==</data>'));
    const data = decodePlist(input) as Uint8Array;
    expect(data.buffer).not.toBe(input.buffer);
    expect(data.byteLength).toBe(data.buffer.byteLength);
  });

  test.each<[string, string, string]>([
    ['fail/unknown entity', '<string>&nbsp;</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/bare ampersand', '<string>a & b</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/reference to NUL', '<string>&#0;</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/reference to surrogate', '<string>&#xD800;</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/reference beyond Unicode', '<string>&#x110000;</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/key outside dict', '<array><key>a</key></array>', 'ERR_PLIST_SYNTAX'],
    ['fail/value without key', '<dict><string>a</string></dict>', 'ERR_PLIST_SYNTAX'],
    ['fail/key without value', '<dict><key>a</key></dict>', 'ERR_PLIST_SYNTAX'],
    ['fail/two keys in a row', '<dict><key>a</key><key>b</key><true/></dict>', 'ERR_PLIST_SYNTAX'],
    [
      'fail/duplicate key',
      '<dict><key>a</key><true/><key>a</key><false/></dict>',
      'ERR_PLIST_SYNTAX',
    ],
    ['fail/mismatched close', '<dict></array>', 'ERR_PLIST_SYNTAX'],
    ['fail/unclosed', '<array><true/>', 'ERR_PLIST_SYNTAX'],
    ['fail/two roots', '<true/><false/>', 'ERR_PLIST_SYNTAX'],
    ['fail/no root', '', 'ERR_PLIST_SYNTAX'],
    ['fail/text between elements', '<array>x<true/></array>', 'ERR_PLIST_SYNTAX'],
    ['fail/unknown element', '<null/>', 'ERR_PLIST_SYNTAX'],
    ['fail/attribute on value', '<string id="1">a</string>', 'ERR_PLIST_SYNTAX'],
    ['fail/nested element in string', '<string><b>x</b></string>', 'ERR_PLIST_SYNTAX'],
    ['fail/empty integer', '<integer/>', 'ERR_PLIST_SYNTAX'],
    ['fail/float in integer', '<integer>1.5</integer>', 'ERR_PLIST_SYNTAX'],
    ['fail/integer beyond 64 bits', '<integer>18446744073709551616</integer>', 'ERR_PLIST_TYPE'],
    ['fail/integer below signed 64', '<integer>-9223372036854775809</integer>', 'ERR_PLIST_TYPE'],
    ['fail/real garbage', '<real>1.2.3</real>', 'ERR_PLIST_SYNTAX'],
    ['fail/real hex', '<real>0x10</real>', 'ERR_PLIST_SYNTAX'],
    ['fail/empty real', '<real></real>', 'ERR_PLIST_SYNTAX'],
    ['fail/date without Z', '<date>2024-10-21T08:30:00</date>', 'ERR_PLIST_SYNTAX'],
    ['fail/date Feb 30', '<date>2024-02-30T00:00:00Z</date>', 'ERR_PLIST_SYNTAX'],
    ['fail/date hour 24', '<date>2024-02-01T24:00:00Z</date>', 'ERR_PLIST_SYNTAX'],
    ['fail/base64 bad char', '<data>AQ!D</data>', 'ERR_PLIST_SYNTAX'],
    ['fail/base64 bad length', '<data>AQIDB</data>', 'ERR_PLIST_SYNTAX'],
    ['fail/base64 dangling symbol with spaces', '<data>AQ ID B</data>', 'ERR_PLIST_SYNTAX'],
    ['fail/base64 data after padding', '<data>AQ==AQ==</data>', 'ERR_PLIST_SYNTAX'],
    ['fail/base64 triple padding', '<data>A===</data>', 'ERR_PLIST_SYNTAX'],
    ['fail/true with content', '<true>yes</true>', 'ERR_PLIST_SYNTAX'],
  ])('%s', (_name, body, code) => {
    expect(codeOf(() => decodePlist(doc(body)))).toBe(code);
  });

  test.each<[string, string | Uint8Array, string]>([
    ['fail/not a plist root', '<?xml version="1.0"?><dict/>', 'ERR_PLIST_SYNTAX'],
    ['fail/content after plist', '<plist><true/></plist><x/>', 'ERR_PLIST_SYNTAX'],
    ['fail/empty plist element', '<plist/>', 'ERR_PLIST_SYNTAX'],
    ['fail/empty input', '', 'ERR_PLIST_SYNTAX'],
    [
      'fail/UTF-16 declared',
      '<?xml version="1.0" encoding="UTF-16"?><plist><true/></plist>',
      'ERR_PLIST_ENCODING',
    ],
    ['fail/UTF-16 BOM', Buffer.from([0xff, 0xfe, 0x3c, 0x00]), 'ERR_PLIST_ENCODING'],
    [
      'fail/invalid UTF-8',
      Buffer.from([
        ...Buffer.from('<plist><string>'),
        0xc3,
        0x28,
        ...Buffer.from('</string></plist>'),
      ]),
      'ERR_PLIST_ENCODING',
    ],
    [
      'fail/overlong UTF-8',
      Buffer.from([
        ...Buffer.from('<plist><string>'),
        0xc0,
        0xaf,
        ...Buffer.from('</string></plist>'),
      ]),
      'ERR_PLIST_ENCODING',
    ],
    [
      'fail/encoded surrogate',
      Buffer.from([
        ...Buffer.from('<plist><string>'),
        0xed,
        0xa0,
        0x80,
        ...Buffer.from('</string></plist>'),
      ]),
      'ERR_PLIST_ENCODING',
    ],
    ['fail/binary magic in a string', 'bplist00', 'ERR_PLIST_BINARY'],
    ['fail/non-plist DOCTYPE', '<!DOCTYPE html><plist><true/></plist>', 'ERR_PLIST_SYNTAX'],
    ['fail/unterminated comment', '<plist><!-- <true/></plist>', 'ERR_PLIST_SYNTAX'],
  ])('%s', (_name, input, code) => {
    expect(codeOf(() => decodePlist(input))).toBe(code);
  });

  test('fail/size limit applies to strings and bytes', () => {
    const text = doc(`<string>${'a'.repeat(2000)}</string>`);
    expect(codeOf(() => decodePlist(text, { maxBytes: 1000 }))).toBe('ERR_PLIST_TOO_LARGE');
    expect(codeOf(() => decodePlist(Buffer.from(text), { maxBytes: 1000 }))).toBe(
      'ERR_PLIST_TOO_LARGE',
    );
    const wide = doc(`<string>${'é'.repeat(600)}</string>`);
    expect(codeOf(() => decodePlist(wide, { maxBytes: wide.length + 100 }))).toBe(
      'ERR_PLIST_TOO_LARGE',
    );
  });

  test('fail/item limit', () => {
    const body = `<array>${'<true/>'.repeat(100)}</array>`;
    expect(codeOf(() => decodePlist(doc(body), { maxItems: 50 }))).toBe('ERR_PLIST_TOO_LARGE');
    expect(decodePlist(doc(body), { maxItems: 101 })).toHaveLength(100);
  });

  test('fail/depth limit counts the root container as 1', () => {
    const nest = (n: number): string => '<array>'.repeat(n) + '</array>'.repeat(n);
    expect(decodePlist(doc(nest(4)), { maxDepth: 4 })).toEqual([[[[]]]]);
    expect(codeOf(() => decodePlist(doc(nest(5)), { maxDepth: 4 }))).toBe('ERR_PLIST_DEPTH');
  });

  test.each<[string, unknown, unknown]>([
    ['fail/input is a number', 42, undefined],
    ['fail/input is null', null, undefined],
    ['fail/maxDepth zero', '<plist><true/></plist>', { maxDepth: 0 }],
    ['fail/maxBytes fractional', '<plist><true/></plist>', { maxBytes: 1.5 }],
  ])('%s throws TypeError', (_name, input, options) => {
    expect(() => decodePlist(input as string, options as undefined)).toThrow(TypeError);
  });
});

describe('encodePlist XML', () => {
  test('ok/Apple layout', () => {
    const xml = encodePlist({
      MessageType: 'TokenUpdate',
      Token: new Uint8Array([1, 2, 3]),
      n: 1,
      ok: true,
      e: {},
    });
    expect(xml.toString()).toBe(
      doc(
        '<dict>\n\t<key>MessageType</key>\n\t<string>TokenUpdate</string>\n\t<key>Token</key>\n\t<data>AQID</data>\n' +
          '\t<key>n</key>\n\t<integer>1</integer>\n\t<key>ok</key>\n\t<true/>\n\t<key>e</key>\n\t<dict/>\n</dict>',
      ),
    );
  });

  test.each<[string, PlistValue, string]>([
    ['ok/whole number is integer', 64, '<integer>64</integer>'],
    ['ok/PlistReal stays real', new PlistReal(64), '<real>64</real>'],
    ['ok/fraction is real', 0.1, '<real>0.1</real>'],
    ['ok/negative zero real', new PlistReal(-0), '<real>-0</real>'],
    ['ok/NaN', NaN, '<real>nan</real>'],
    ['ok/Infinity', Infinity, '<real>+infinity</real>'],
    ['ok/huge whole number is real', 1e300, '<real>1e+300</real>'],
    ['ok/unsafe whole number', 2 ** 60, '<integer>1152921504606846976</integer>'],
    ['ok/bigint', 18446744073709551615n, '<integer>18446744073709551615</integer>'],
    [
      'ok/date drops milliseconds',
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
      '<date>2024-01-02T03:04:05Z</date>',
    ],
    [
      'ok/escaping',
      'a&b<c>d\re\u0001f\tg\nh',
      '<string>a&amp;b&lt;c&gt;d&#13;e&#1;f\tg\nh</string>',
    ],
    ['ok/astral characters', '🍏', '<string>🍏</string>'],
    ['ok/empty array', [], '<array/>'],
  ])('%s', (_name, value, fragment) => {
    expect(encodePlist(value).toString()).toBe(doc(fragment));
  });

  test('ok/undefined dict values are skipped', () => {
    const value = { a: undefined, b: 1 } as unknown as PlistValue;
    expect(decodePlist(encodePlist(value))).toEqual({ b: 1 });
    expect(encodePlist({ a: undefined } as unknown as PlistValue).toString()).toBe(doc('<dict/>'));
  });

  test.each<[string, PlistValue, string]>([
    ['fail/bigint above unsigned 64', 2n ** 64n, 'ERR_PLIST_TYPE'],
    ['fail/bigint below signed 64', -(2n ** 63n) - 1n, 'ERR_PLIST_TYPE'],
    ['fail/invalid date', new Date(NaN), 'ERR_PLIST_TYPE'],
    ['fail/date beyond year 9999 in XML', new Date(Date.UTC(10000, 0, 1)), 'ERR_PLIST_TYPE'],
    ['fail/NUL in XML', 'a\u0000b', 'ERR_PLIST_ENCODING'],
    ['fail/lone surrogate in XML', 'a\ud800b', 'ERR_PLIST_ENCODING'],
    ['fail/lone low surrogate in a key', { '\udc00': 1 }, 'ERR_PLIST_ENCODING'],
  ])('%s', (_name, value, code) => {
    expect(codeOf(() => encodePlist(value))).toBe(code);
  });

  test.each<[string, unknown]>([
    ['fail/null', null],
    ['fail/function', () => 1],
    ['fail/symbol', Symbol('x')],
    ['fail/undefined root', undefined],
    ['fail/undefined in array', [1, undefined]],
    ['fail/Map', new Map()],
    ['fail/class instance', new URL('https://example.org/')],
    ['fail/other typed array', new Uint16Array(2)],
  ])('%s throws TypeError in both formats', (_name, value) => {
    expect(() => encodePlist(value as PlistValue)).toThrow(TypeError);
    expect(() => encodePlist(value as PlistValue, { format: 'binary' })).toThrow(TypeError);
  });

  test('fail/cyclic value is a TypeError in both formats', () => {
    const a: PlistValue[] = [];
    a.push(a);
    expect(() => encodePlist(a)).toThrow(TypeError);
    expect(() => encodePlist(a, { format: 'binary' })).toThrow(TypeError);
  });

  test('fail/unknown format', () => {
    expect(() => encodePlist(1, { format: 'json' as 'xml' })).toThrow(TypeError);
  });
});

describe('prototype pollution', () => {
  const keys = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'];
  const xml = doc(
    `<dict>${keys.map((k) => `<key>${k}</key><dict><key>polluted</key><true/></dict>`).join('')}</dict>`,
  );

  test.each([
    ['ok/XML', (): PlistValue => decodePlist(xml)],
    [
      'ok/binary',
      (): PlistValue => decodePlist(encodePlist(decodePlist(xml), { format: 'binary' })),
    ],
  ])('%s keys become own data properties', (_name, decode) => {
    const v = decode() as Record<string, unknown>;
    expect(Object.keys(v)).toEqual(keys);
    for (const k of keys)
      expect(Object.getOwnPropertyDescriptor(v, k)?.value).toEqual({ polluted: true });
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  test('ok/re-encoding keeps __proto__ as a key', () => {
    const v = decodePlist(xml);
    expect(encodePlist(v).toString()).toContain('<key>__proto__</key>');
    expect(decodePlist(encodePlist(v))).toEqual(v);
  });
});
