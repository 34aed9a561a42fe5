/**
 * Hostile corpus (SECURITY.md: XML abuse, prototype pollution, resource exhaustion): every
 * input gets a PlistError with bounded work and bounded memory. Work is bounded in CPU time
 * (process.cpuUsage), never wall-clock time, so a busy machine cannot fail it; timings are in
 * bench/plist.bench.ts.
 */
import { describe, expect, test } from '@jest/globals';
import { decodePlist } from '../../src/protocol/plist.js';
import { cpuTime } from '../support/cpu.js';
import { bplist, codeOf } from './plist-support.js';

/**
 * CPU milliseconds per refusal. The dearest here (1.1 million tiny values) costs about 300 ms of
 * CPU; a parser that expands entities or follows cycles would cost seconds or never finish.
 */
const CPU_BOUND_MS = 2500;
const HEAP_BOUND = 200 * 1024 * 1024;

function refuse(input: string | Uint8Array, code: string, bound = CPU_BOUND_MS): void {
  const heap0 = process.memoryUsage().heapUsed;
  const { ms, result } = cpuTime(() => codeOf(() => decodePlist(input)));
  expect(result).toBe(code);
  expect(ms).toBeLessThan(bound);
  expect(process.memoryUsage().heapUsed - heap0).toBeLessThan(HEAP_BOUND);
}

const laughs =
  '<?xml version="1.0"?>\n<!DOCTYPE plist [\n<!ENTITY lol "lol">\n' +
  Array.from(
    { length: 9 },
    (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
  ).join('\n') +
  '\n]>\n<plist><string>&lol9;</string></plist>';

describe('hostile XML', () => {
  test.each<[string, string, string]>([
    ['fail/billion laughs', laughs, 'ERR_PLIST_SYNTAX'],
    [
      'fail/external entity',
      '<?xml version="1.0"?><!DOCTYPE plist [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><plist><string>&xxe;</string></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    [
      'fail/parameter entity',
      '<!DOCTYPE plist [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]><plist><true/></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    [
      'fail/internal subset hidden after a public id',
      '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "x.dtd" [<!ENTITY a "b">]><plist><true/></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    ['fail/undeclared entity', '<plist><string>&xxe;</string></plist>', 'ERR_PLIST_SYNTAX'],
    ['fail/ENTITY in the body', '<plist><!ENTITY a "b"><true/></plist>', 'ERR_PLIST_SYNTAX'],
    [
      'fail/second DOCTYPE',
      '<!DOCTYPE plist><!DOCTYPE plist><plist><true/></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    [
      'fail/processing instruction in the body',
      '<plist><?php x ?><true/></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    ['fail/duplicate roots', '<plist><dict/><dict/></plist>', 'ERR_PLIST_SYNTAX'],
    [
      'fail/second plist element',
      '<plist><true/></plist><plist><true/></plist>',
      'ERR_PLIST_SYNTAX',
    ],
    ['fail/10,000-deep arrays', `<plist>${'<array>'.repeat(10_000)}`, 'ERR_PLIST_DEPTH'],
    ['fail/10,000-deep dicts', `<plist>${'<dict><key>k</key>'.repeat(10_000)}`, 'ERR_PLIST_DEPTH'],
    ['fail/1 MB string never closed', `<plist><string>${'a'.repeat(1 << 20)}`, 'ERR_PLIST_SYNTAX'],
    ['fail/1 MB comment never closed', `<plist><!--${'-'.repeat(1 << 20)}`, 'ERR_PLIST_SYNTAX'],
    [
      'fail/huge integer text',
      `<plist><integer>${'9'.repeat(1 << 20)}</integer></plist>`,
      'ERR_PLIST_SYNTAX',
    ],
    [
      'fail/huge real text',
      `<plist><real>${'9'.repeat(1 << 20)}</real></plist>`,
      'ERR_PLIST_SYNTAX',
    ],
    [
      'fail/many tiny values',
      `<plist><array>${'<true/>'.repeat(1_100_000)}</array></plist>`,
      'ERR_PLIST_TOO_LARGE',
    ],
  ])('%s', (_name, input, code) => {
    refuse(input, code);
  });

  test('fail/many tiny values beyond maxItems', () => {
    const input = `<plist><array>${'<true/>'.repeat(20_000)}</array></plist>`;
    expect(codeOf(() => decodePlist(input, { maxItems: 10_000 }))).toBe('ERR_PLIST_TOO_LARGE');
  });

  test('ok/10,000-deep nesting within a raised limit does not overflow the stack', () => {
    const input = `<plist>${'<array>'.repeat(10_000)}${'</array>'.repeat(10_000)}</plist>`;
    let v = decodePlist(input, { maxDepth: 10_000 });
    let depth = 0;
    while (Array.isArray(v) && v.length <= 1) {
      depth++;
      if (v.length === 0) break;
      v = v[0] as typeof v;
    }
    expect(depth).toBe(10_000);
  });
});

/** An array of `fan` references to the next array, `levels` deep: fan^levels values. */
function expanding(levels: number, fan: number): Buffer {
  const objects: number[][] = [];
  for (let i = 0; i < levels; i++)
    objects.push([0xa0 | fan, ...new Array<number>(fan).fill(i + 1)]);
  objects.push([0x09]);
  return bplist(objects);
}

describe('hostile binary', () => {
  test.each<[string, Buffer, string]>([
    ['fail/array containing itself', bplist([[0xa1, 0]]), 'ERR_PLIST_BINARY'],
    [
      'fail/mutual cycle',
      bplist([
        [0xa1, 1],
        [0xd1, 2, 0],
        [0x51, 0x6b],
      ]),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/offset table beyond the file',
      bplist([[0x09]], { table: 1n << 40n }),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/offset table overlapping the trailer',
      bplist([[0x09]], { count: 100n }),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/object offset out of range',
      bplist([[0x09]], { offsets: [0x7fffffff] }),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/object offset inside the header',
      bplist([[0x09]], { offsets: [2] }),
      'ERR_PLIST_BINARY',
    ],
    ['fail/reference out of range', bplist([[0xa1, 9]]), 'ERR_PLIST_BINARY'],
    ['fail/top object out of range', bplist([[0x09]], { top: 5 }), 'ERR_PLIST_BINARY'],
    ['fail/huge declared object count', bplist([[0x09]], { count: 1n << 62n }), 'ERR_PLIST_BINARY'],
    [
      'fail/huge declared array length',
      bplist([[0xaf, 0x13, 0, 0, 0x10, 0, 0, 0, 0, 0, 0]]),
      'ERR_PLIST_BINARY',
    ],
    [
      'fail/huge declared data length',
      bplist([[0x4f, 0x12, 0x7f, 0xff, 0xff, 0xff]]),
      'ERR_PLIST_BINARY',
    ],
    ['fail/zero offset size', bplist([[0x09]], { offsetSize: 0 }), 'ERR_PLIST_BINARY'],
    ['fail/reference size 9', bplist([[0x09]], { refSize: 9 }), 'ERR_PLIST_BINARY'],
    ['fail/truncated trailer', bplist([[0x09]]).subarray(0, 30), 'ERR_PLIST_BINARY'],
    [
      'fail/trailer cut by one byte',
      bplist([[0xa2, 1, 1], [0x09]]).subarray(0, -1),
      'ERR_PLIST_BINARY',
    ],
  ])('%s', (_name, input, code) => {
    refuse(input, code);
  });

  test('fail/exponential sharing stops at maxItems', () => {
    // 10^12 values from a few hundred bytes; decoding stops after the default 1,000,000,
    // which costs a few hundred ms of CPU, so the bound is wider here.
    refuse(expanding(12, 10), 'ERR_PLIST_TOO_LARGE', 8000);
    const small = { maxItems: 10_000 };
    expect(codeOf(() => decodePlist(expanding(12, 10), small))).toBe('ERR_PLIST_TOO_LARGE');
    expect(decodePlist(expanding(3, 10), small)).toHaveLength(10);
  });

  test('fail/10,000-deep binary nesting hits the depth limit', () => {
    // 2-byte references so that 10,000 nested arrays each point at the next one.
    const objects: number[][] = [];
    for (let i = 0; i < 10_000; i++) objects.push([0xa1, (i + 1) >> 8, (i + 1) & 0xff]);
    objects.push([0x09]);
    refuse(bplist(objects, { refSize: 2 }), 'ERR_PLIST_DEPTH');
  });

  test('fail/a raised maxDepth never turns deep binary nesting into a RangeError', () => {
    const objects: number[][] = [];
    for (let i = 0; i < 60_000; i++)
      objects.push([0xa1, (i + 1) >> 16, ((i + 1) >> 8) & 0xff, (i + 1) & 0xff]);
    objects.push([0x09]);
    const input = bplist(objects, { refSize: 3 });
    const code = codeOf(() => decodePlist(input, { maxDepth: 1_000_000 }));
    expect(['no error', 'ERR_PLIST_DEPTH']).toContain(code);
  });

  test('fail/one shared data object referenced many times exceeds maxBytes', () => {
    const data = [0x4f, 0x12, 0x00, 0x01, 0x00, 0x00, ...new Array<number>(65536).fill(0x41)];
    const refs = new Array<number>(1000).fill(1);
    const arr = [0xaf, 0x11, 0x03, 0xe8, ...refs];
    refuse(bplist([arr, data]), 'ERR_PLIST_TOO_LARGE');
  });
});
