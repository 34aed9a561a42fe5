/**
 * Reading a user import file (rule M9) with csv-parse: a header row naming `username,email` and
 * any of the optional columns, comma-separated, UTF-8 with or without a BOM, CRLF or LF line
 * ends, RFC 4180 quoting (commas, quotes and line breaks inside quoted fields). A file that
 * cannot be read as such is refused as a whole; each readable row comes back with its line and
 * its problems, so one bad row never hides the others. Values are kept verbatim apart from
 * surrounding whitespace: `=cmd` stays `=cmd` (a spreadsheet formula guard is for exports).
 */
import { CsvError, parse } from 'csv-parse/sync';
import { ManagementError } from '../errors.js';
import { customProblem, emailProblem, nameProblem, usernameProblem } from './user-fields.js';

/** The optional user fields a file may set, by the column that carries each. */
const OPTIONAL_COLUMNS = {
  first_name: 'firstName',
  last_name: 'lastName',
  policy: 'policy',
  managed_apple_id: 'managedAppleId',
  custom_1: 'custom1',
  custom_2: 'custom2',
  custom_3: 'custom3',
} as const;

/** Every column an import file may have, in the order the documentation lists them. */
export const USER_CSV_COLUMNS: readonly string[] = [
  'username',
  'email',
  'first_name',
  'last_name',
  'og',
  'policy',
  'managed_apple_id',
  'send_invite',
  'custom_1',
  'custom_2',
  'custom_3',
];

/** Default largest number of rows in one import. */
export const MAX_IMPORT_ROWS = 10_000;
/** Default largest import file (the API's body limit for the import route). */
export const MAX_IMPORT_BYTES = 5 * 1024 * 1024;

/** An optional user field a CSV column sets. */
export type UserCsvField = (typeof OPTIONAL_COLUMNS)[keyof typeof OPTIONAL_COLUMNS];

/** One data row of an import file. */
export interface UserCsvRow {
  /** Line of the file where the row starts (the header is line 1). */
  line: number;
  /** As given, without surrounding whitespace; `''` when empty. */
  username: string;
  email: string;
  /**
   * The optional fields whose column the file has: the value, or `''` for an empty cell (the
   * field is cleared). A field whose column the file lacks is absent (left as it is).
   */
  fields: Partial<Record<UserCsvField, string>>;
  /** The `og` cell (a group id or an exact group name); absent when empty or no such column. */
  og?: string;
  /** The `send_invite` cell: true for `true`, `yes`, `1`; false when empty or absent. */
  sendInvite: boolean;
  /** Why the row cannot be applied; empty when it can. */
  problems: string[];
}

/** A readable import file. */
export interface ParsedUserCsv {
  /** Its columns, lower-cased, in file order. */
  columns: string[];
  rows: UserCsvRow[];
}

/** Limits of {@link parseUserCsv}. */
export interface UserCsvOptions {
  /** Default {@link MAX_IMPORT_ROWS}. */
  maxRows?: number;
  /** Default {@link MAX_IMPORT_BYTES}, counted in UTF-8. */
  maxBytes?: number;
}

/** A file-level refusal: 422 `ERR_USER_CSV` with the problem (and its line when known). */
function unreadable(message: string, line?: number): ManagementError {
  return new ManagementError('ERR_USER_CSV', `the user file cannot be imported: ${message}`, {
    issues: [line === undefined ? { message } : { line, message }],
  });
}

const TRUE = new Set(['true', 'yes', '1']);
const FALSE = new Set(['false', 'no', '0', '']);

const BREAK = /\r\n|\r|\n/g;
const BLANK_LINES = /^(?:[ \t]*(?:\r\n|\r|\n))*/;

/**
 * The line each record starts on, from the byte offset csv-parse reports at each record's end
 * (its own line count goes wrong on CRLF inside quotes): blank lines before a record are skipped.
 */
function startLines(bytes: Buffer, ends: readonly number[]): number[] {
  let before = 0;
  let from = 0;
  return ends.map((end) => {
    const segment = bytes.subarray(from, end).toString('utf8');
    const blank = BLANK_LINES.exec(segment)?.[0] ?? '';
    const start = before + 1 + (blank.match(BREAK)?.length ?? 0);
    before += segment.match(BREAK)?.length ?? 0;
    from = end;
    return start;
  });
}

/** Parses the text into records with the line each starts on, or throws `ERR_USER_CSV`. */
function records(text: string): { record: string[]; line: number }[] {
  const bytes = Buffer.from(text, 'utf8');
  let out: { record: string[]; info: { bytes: number } }[];
  try {
    out = parse(bytes, {
      bom: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      record_delimiter: ['\r\n', '\n', '\r'],
    }) as unknown as typeof out;
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = typeof error.lines === 'number' ? error.lines : undefined;
    throw unreadable(`not valid CSV (${error.message})`, line);
  }
  const lines = startLines(
    bytes,
    out.map((r) => r.info.bytes),
  );
  return out.map((r, i) => ({ record: r.record, line: lines[i] ?? 0 }));
}

/** The header's columns, lower-cased; throws `ERR_USER_CSV` for unknown, repeated or missing ones. */
function columnsOf(header: readonly string[] | undefined): string[] {
  if (header === undefined) throw unreadable('the file is empty (a header row is required)');
  const columns = header.map((c) => c.trim().toLowerCase());
  const unknown = columns.filter((c) => !USER_CSV_COLUMNS.includes(c));
  if (unknown.length > 0) {
    const hint = unknown.some((c) => c.includes(';')) ? ' (columns are separated by commas)' : '';
    throw unreadable(
      `unknown columns ${unknown.map((c) => JSON.stringify(c)).join(', ')}${hint}; allowed: ${USER_CSV_COLUMNS.join(', ')}`,
      1,
    );
  }
  const repeated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (repeated.length > 0) throw unreadable(`repeated columns ${repeated.join(', ')}`, 1);
  const missing = ['username', 'email'].filter((c) => !columns.includes(c));
  if (missing.length > 0) throw unreadable(`missing required columns ${missing.join(', ')}`, 1);
  return columns;
}

/** Reads the cells of one record into a row, collecting its problems. */
function rowOf(columns: readonly string[], record: readonly string[], line: number): UserCsvRow {
  const cell = new Map(columns.map((c, i) => [c, (record[i] ?? '').trim()]));
  const problems: string[] = [];
  if (record.length !== columns.length)
    problems.push(`the row has ${record.length} fields, the header ${columns.length}`);
  const username = cell.get('username') ?? '';
  const email = cell.get('email') ?? '';
  const row: UserCsvRow = { line, username, email, fields: {}, sendInvite: false, problems };
  for (const p of [usernameProblem(username), emailProblem(email)]) if (p) problems.push(p);
  for (const [column, field] of Object.entries(OPTIONAL_COLUMNS)) {
    const value = cell.get(column);
    if (value === undefined) continue;
    row.fields[field] = value;
    if (value === '') continue;
    const problem = field.startsWith('custom')
      ? customProblem(value, column)
      : field === 'managedAppleId'
        ? emailProblem(value, column)
        : nameProblem(value, column);
    if (problem) problems.push(problem);
  }
  const og = cell.get('og') ?? '';
  if (og !== '') {
    row.og = og;
    const problem = nameProblem(og, 'og');
    if (problem) problems.push(problem);
  }
  const invite = (cell.get('send_invite') ?? '').toLowerCase();
  if (TRUE.has(invite)) row.sendInvite = true;
  else if (!FALSE.has(invite))
    problems.push('send_invite must be true, false, yes, no, 1, 0 or empty');
  return row;
}

/** Refuses a username already used by an earlier row of the file (compared case-insensitively). */
function refuseRepeats(rows: readonly UserCsvRow[]): void {
  const first = new Map<string, number>();
  for (const row of rows) {
    if (row.username === '') continue;
    const key = row.username.toLowerCase();
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, row.line);
    else row.problems.push(`username ${row.username} is already on line ${earlier}`);
  }
}

/**
 * Reads an import file. Throws ManagementError 422 `ERR_USER_CSV` (with the line in `issues`)
 * when the file as a whole cannot be imported: too large, not text, not CSV, no header, unknown,
 * repeated or missing required columns, more than `maxRows` rows. Blank lines are skipped.
 */
export function parseUserCsv(text: string, options: UserCsvOptions = {}): ParsedUserCsv {
  const maxBytes = options.maxBytes ?? MAX_IMPORT_BYTES;
  const maxRows = options.maxRows ?? MAX_IMPORT_ROWS;
  if (Buffer.byteLength(text, 'utf8') > maxBytes)
    throw unreadable(`the file is larger than ${maxBytes} bytes`);
  if (text.includes('\u0000')) throw unreadable('the file is not text (it holds NUL bytes)');
  const all = records(text).filter((r) => r.record.some((field) => field.trim() !== ''));
  const columns = columnsOf(all[0]?.record);
  const data = all.slice(1);
  if (data.length > maxRows) throw unreadable(`the file has more than ${maxRows} rows`);
  const rows = data.map((r) => rowOf(columns, r.record, r.line));
  refuseRepeats(rows);
  return { columns, rows };
}
