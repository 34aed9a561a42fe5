/** `nulField`: finds U+0000 in any key or string of a JSON body, however deep, without recursion. */
import { expect, test } from '@jest/globals';
import { nulField } from '../../../src/http/admin/validate.js';

function nested(depth: number, leaf: unknown): unknown {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? [value] : { k: value };
  return value;
}

test('ok/names the field holding U+0000, in a value or in a key', () => {
  expect(nulField({ name: 'a\u0000b' })).toBe('name');
  expect(nulField({ list: ['ok', 'x\u0000'] })).toBe('list[]');
  expect(nulField({ outer: { ['k\u0000']: 1 } })).toBe('outer');
  expect(nulField('plain\u0000')).toBe('body');
  expect(nulField({ name: 'clean', n: 1, list: [true, null] })).toBeUndefined();
});

test('ok/a body nested 200,000 deep is walked without exhausting the stack', () => {
  expect(() => nulField(nested(200_000, 'clean'))).not.toThrow();
  expect(nulField(nested(200_000, 'clean'))).toBeUndefined();
  expect(nulField(nested(200_000, 'x\u0000'))).toBeDefined();
});
