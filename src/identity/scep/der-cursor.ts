/**
 * A forward-only cursor over definite-length DER, for the SCEP fast reader: it reads elements by
 * offsets into the input (no element tree) and throws {@link UNUSUAL} on anything it does not
 * take (another tag, an indefinite or over-long length, a length past its parent), so the
 * caller leaves the input to the full parser.
 */
/** Thrown inside a fast reader to leave for the full parser; it never escapes one. */
class Unusual extends Error {}

/** The one {@link Unusual} thrown (no stack trace is captured per refusal). */
export const UNUSUAL: Error = new Unusual();

/**
 * A cursor over one constructed element's content: `next(tag)` reads the element at the
 * position, which must carry identifier `tag` and a definite length that fits, and leaves its
 * content bounds in `start`/`end`.
 */
export class Cursor {
  pos: number;
  start = 0;
  end = 0;

  constructor(
    readonly buf: Buffer,
    from: number,
    readonly limit: number,
  ) {
    this.pos = from;
  }

  /** Whether the cursor is at the end of its element. */
  get done(): boolean {
    return this.pos === this.limit;
  }

  /** The identifier octet at the position, or -1 at the end. */
  peek(): number {
    return this.pos < this.limit ? (this.buf[this.pos] as number) : -1;
  }

  /** Reads the element at the position, which must have identifier `tag`. */
  next(tag: number): this {
    const { buf, limit } = this;
    let p = this.pos;
    if (p + 2 > limit || buf[p] !== tag || (tag & 0x1f) === 0x1f) throw UNUSUAL;
    let length = buf[p + 1] as number;
    p += 2;
    if (length >= 0x80) {
      const count = length & 0x7f;
      if (count === 0 || count > 3 || p + count > limit) throw UNUSUAL;
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (buf[p++] as number);
    }
    if (p + length > limit) throw UNUSUAL;
    this.start = p;
    this.end = p + length;
    this.pos = this.end;
    return this;
  }

  /** A cursor over the content of the element just read. */
  inner(): Cursor {
    return new Cursor(this.buf, this.start, this.end);
  }

  /** A view of the content of the element just read. */
  content(): Buffer {
    return view(this.buf, this.start, this.end);
  }

  /** A view of the whole element just read, from `from` (its identifier octet). */
  element(from: number): Buffer {
    return view(this.buf, from, this.end);
  }

  /** Skips one element of any single-octet tag; throws on an indefinite length. */
  skip(): void {
    const tag = this.peek();
    if (tag < 0 || (tag & 0x1f) === 0x1f) throw UNUSUAL;
    this.next(tag);
  }
}

function view(buf: Buffer, start: number, end: number): Buffer {
  return buf.subarray(start, end);
}
