/**
 * Reading user import files (rule M9): the header, quoting, BOM and line ends csv-parse handles,
 * the line each row starts on, per-row problems that never hide other rows, file-level refusals
 * with `ERR_USER_CSV`, and values such as `=cmd` kept verbatim.
 */
import { describe, expect, test } from '@jest/globals';
import { parseUserCsv } from '../../src/management/user-csv.js';

/** The code of what `fn` throws, or `undefined`. */
function codeOf(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (error) {
    return (error as { code?: unknown }).code;
  }
}

describe('parseUserCsv reads', () => {
  test.each([
    ['ok/LF', 'username,email\nalice,alice@example.com\n'],
    ['ok/CRLF', 'username,email\r\nalice,alice@example.com\r\n'],
    ['ok/BOM', '\uFEFFusername,email\r\nalice,alice@example.com'],
    ['ok/blank lines', '\n\nusername,email\n\n  \nalice,alice@example.com\n\n'],
    ['ok/header case and spaces', ' Username , EMAIL \n alice , alice@example.com \n'],
    ['ok/columns in another order', 'email,username\nalice@example.com,alice\n'],
  ])('%s', (_name, text) => {
    const { rows } = parseUserCsv(text);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      username: 'alice',
      email: 'alice@example.com',
      problems: [],
      sendInvite: false,
    });
  });

  test('ok/quoted fields keep commas, quotes and line breaks; lines count from the start', () => {
    const text = [
      'username,email,first_name,custom_1',
      'alice,alice@example.com,"Smith, Jr.","say ""hi"""',
      'bob,bob@example.com,Bob,"two',
      'lines"',
      'carol,carol@example.com,Carol,',
    ].join('\r\n');
    const { rows } = parseUserCsv(text);
    expect(rows.map((r) => [r.line, r.username, r.fields.firstName, r.fields.custom1])).toEqual([
      [2, 'alice', 'Smith, Jr.', 'say "hi"'],
      [3, 'bob', 'Bob', 'two\r\nlines'],
      [5, 'carol', 'Carol', ''],
    ]);
    expect(rows.every((r) => r.problems.length === 0)).toBe(true);
  });

  test('ok/blank lines are skipped but counted', () => {
    const text = 'username,email\r\n\r\nalice,a@example.com\r\n  \r\n\r\nbob,b@example.com';
    expect(parseUserCsv(text).rows.map((r) => r.line)).toEqual([3, 6]);
  });

  test('ok/values starting with = + - @ round-trip unchanged', () => {
    const text =
      'username,email,first_name,last_name,custom_1,custom_2\nu1,u1@example.com,=cmd|x,+1,-2,@SUM(A1)\n';
    expect(parseUserCsv(text).rows[0]?.fields).toEqual({
      firstName: '=cmd|x',
      lastName: '+1',
      custom1: '-2',
      custom2: '@SUM(A1)',
    });
  });

  test('ok/absent columns are absent, empty cells are empty strings', () => {
    const { rows } = parseUserCsv('username,email,policy,og\nalice,alice@example.com,,\n');
    expect(rows[0]?.fields).toEqual({ policy: '' });
    expect(rows[0]?.og).toBeUndefined();
  });

  test.each([
    ['true', true],
    ['YES', true],
    ['1', true],
    ['false', false],
    ['no', false],
    ['0', false],
    ['', false],
  ])('ok/send_invite %j is %j', (cell, expected) => {
    const { rows } = parseUserCsv(`username,email,send_invite\na,a@example.com,${cell}\n`);
    expect(rows[0]).toMatchObject({ sendInvite: expected, problems: [] });
  });

  test('ok/a header-only file has no rows', () => {
    expect(parseUserCsv('username,email\n').rows).toEqual([]);
  });
});

describe('parseUserCsv refuses rows', () => {
  const H = 'username,email,managed_apple_id,send_invite';
  test.each([
    ['fail/empty username', ',a@example.com,,', /username is empty/],
    ['fail/username with a space', 'al ice,a@example.com,,', /username may hold only/],
    ['fail/username too long', `${'a'.repeat(129)},a@example.com,,`, /longer than 128/],
    ['fail/empty email', 'alice,,,', /email is empty/],
    ['fail/invalid email', 'alice,not-an-address,,', /email is not an e-mail address/],
    ['fail/email with two @', 'alice,a@b@example.com,,', /not an e-mail address/],
    ['fail/bad send_invite', 'alice,a@example.com,,maybe', /send_invite must be/],
    ['fail/bad managed apple id', 'alice,a@example.com,x,', /managed_apple_id is not/],
    ['fail/too many fields', 'alice,a@example.com,,,extra', /5 fields, the header 4/],
    ['fail/too few fields', 'alice,a@example.com', /2 fields, the header 4/],
  ])('%s', (_name, line, problem) => {
    const { rows } = parseUserCsv(`${H}\n${line}\n`);
    expect(rows[0]?.problems.join('; ')).toMatch(problem);
  });

  test('fail/control characters in a name, line breaks allowed in custom fields only', () => {
    const { rows } = parseUserCsv(
      'username,email,first_name,custom_3\na,a@example.com,"x\ny","p\nq"\n',
    );
    expect(rows[0]?.problems).toEqual(['first_name contains control characters']);
  });

  test('fail/a repeated username refuses the later row, case-insensitively', () => {
    const { rows } = parseUserCsv(
      'username,email\nalice,a@example.com\nbob,b@example.com\nALICE,c@example.com\n',
    );
    expect(rows.map((r) => r.problems)).toEqual([[], [], ['username ALICE is already on line 2']]);
  });
});

describe('parseUserCsv refuses files', () => {
  test.each([
    ['fail/empty', ''],
    ['fail/only blank lines', '\n\r\n  \n'],
    ['fail/unknown column', 'username,email,phone\n'],
    ['fail/semicolons', 'username;email\nalice;a@example.com\n'],
    ['fail/missing email column', 'username,first_name\nalice,Alice\n'],
    ['fail/missing username column', 'email\na@example.com\n'],
    ['fail/repeated column', 'username,email,email\n'],
    ['fail/unclosed quote', 'username,email\n"alice,a@example.com\n'],
    ['fail/stray quote', 'username,email\nal"ice,a@example.com\n'],
    ['fail/binary', 'username,email\n\u0000\u0001\n'],
  ])('%s', (_name, text) => {
    expect(codeOf(() => parseUserCsv(text))).toBe('ERR_USER_CSV');
  });

  test('fail/unknown columns are named', () => {
    expect(() => parseUserCsv('username,email,phone,Fax\n')).toThrow(/"phone", "fax"/);
  });

  test('fail/more rows than the limit', () => {
    const text = `username,email\n${['a', 'b', 'c'].map((u) => `${u},${u}@example.com`).join('\n')}`;
    expect(parseUserCsv(text, { maxRows: 3 }).rows).toHaveLength(3);
    expect(codeOf(() => parseUserCsv(text, { maxRows: 2 }))).toBe('ERR_USER_CSV');
  });

  test('fail/more bytes than the limit', () => {
    expect(codeOf(() => parseUserCsv('username,email\n', { maxBytes: 10 }))).toBe('ERR_USER_CSV');
  });
});
