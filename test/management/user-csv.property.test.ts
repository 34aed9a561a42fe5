/**
 * Any values written as RFC 4180 CSV (quoted when they hold a comma, quote or line break; with
 * LF or CRLF line ends, with or without a BOM) read back unchanged by `parseUserCsv`, formula
 * look-alikes (`=`, `+`, `-`, `@`) included, and each row's line is where it starts.
 */
import { expect, test } from '@jest/globals';
import fc from 'fast-check';
import { parseUserCsv } from '../../src/management/user-csv.js';

const RUNS = Number(process.env.ORCHARD_PROPERTY_RUNS ?? 200);

/** Custom-field text: printable characters, CSV's special ones and formula prefixes, no edge spaces. */
const custom = fc
  .array(fc.constantFrom('a', 'Z', '7', ' ', ',', '"', '\n', '=', '+', '-', '@', 'é', ';'), {
    maxLength: 12,
  })
  .map((chars) => chars.join('').trim());

function quote(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

test('ok/written values read back unchanged, lines where rows start', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(custom, custom), { minLength: 1, maxLength: 8 }),
      fc.constantFrom('\n', '\r\n'),
      fc.boolean(),
      (values, eol, bom) => {
        const rows = values.map(([a, b], i) =>
          [`user${String(i)}`, `u${String(i)}@example.com`, quote(a), quote(b)].join(','),
        );
        const text = `${bom ? '\uFEFF' : ''}username,email,custom_1,custom_2${eol}${rows.join(eol)}${eol}`;
        const parsed = parseUserCsv(text).rows;
        expect(parsed.map((r) => [r.fields.custom1, r.fields.custom2])).toEqual(values);
        let line = 2;
        parsed.forEach((r, i) => {
          expect(r.line).toBe(line);
          line += 1 + (rows[i]?.match(/\r\n|\n/g)?.length ?? 0);
        });
      },
    ),
    { numRuns: RUNS },
  );
});
