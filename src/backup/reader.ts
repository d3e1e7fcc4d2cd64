/**
 * Streaming reader for Sentry export files: a top-level JSON array of
 * `{"model": ..., "pk": ..., "fields": {...}}` objects that may be several GB, so it is never held
 * whole in memory.
 *
 * A byte scanner follows string, escape and nesting state across chunks and cuts out each
 * element of the top-level array; each element is then decoded and handed to `JSON.parse`
 * (measured in the ecosystem study as faster than any streaming JSON library, and it gives exact
 * byte offsets for errors). Memory is bounded by the largest single element plus one chunk.
 */
import { isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { InputError } from "./errors.js";

/** One element of the top-level array, as read from the input. */
export interface RawEntry {
  /** The parsed element (any JSON value; shape is checked by the caller). */
  value: unknown;
  /** The element's source text, exactly as in the file (UTF-8 decoded). */
  text: string;
  /** Byte offset of the element's first byte in the input (counting a BOM, if any). */
  offset: number;
  /** 0-based index of the element in the array. */
  index: number;
}

/**
 * The input is not a well-formed JSON array (or not valid UTF-8). `offset` is the byte offset of
 * the offending byte, or the input's length when the input ended too early. The message reads
 * `invalid JSON at byte <offset>: <reason>`.
 */
export class JsonSyntaxError extends InputError {
  override name = "JsonSyntaxError";
  /** Byte offset in the input (counting a BOM, if any) where the problem is. */
  declare readonly offset: number;
  /** The message without the `invalid JSON at byte N:` prefix. */
  readonly reason: string;

  constructor(reason: string, offset: number) {
    super(`invalid JSON at byte ${offset}: ${reason}`, offset);
    this.reason = reason;
  }
}

/**
 * Reads the elements of a top-level JSON array one by one, in order.
 *
 * Accepts leading/trailing JSON whitespace, a UTF-8 byte order mark at byte 0 and any layout.
 * Elements may be any JSON value; `[]` yields nothing. Throws `JsonSyntaxError` (after yielding
 * every element before the problem) when the top level is not an array, the input is empty or
 * truncated, commas are missing, doubled or trailing, anything but whitespace follows the closing
 * `]`, an element is malformed, or an element is not valid UTF-8. The elements yielded and the
 * error thrown do not depend on how the input is split into chunks. String chunks (a stream with
 * an encoding set) are re-encoded as UTF-8, so offsets then count the re-encoded bytes.
 */
export async function* readEntries(
  input: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
): AsyncGenerator<RawEntry> {
  const scanner = new Scanner();
  const ready: RawEntry[] = [];
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    scanner.write(asBuffer(chunk), ready);
    for (const entry of ready) yield entry;
    ready.length = 0;
    if (scanner.error) throw scanner.error;
  }
  scanner.end();
}

/**
 * Opens an export for `readEntries`: `"-"` is standard input, anything else a file path read in
 * 1 MiB chunks. A missing or unreadable file is reported when reading starts.
 */
export function openSource(path: string): NodeJS.ReadableStream | Readable {
  if (path === "-") return process.stdin;
  return createReadStream(path, { highWaterMark: 1 << 20 });
}

function asBuffer(chunk: Uint8Array | string): Buffer {
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (Buffer.isBuffer(chunk)) return chunk;
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const BOM = [0xef, 0xbb, 0xbf];

function byteSet(chars: string): Uint8Array {
  const set = new Uint8Array(256);
  for (const c of chars) set[c.charCodeAt(0)] = 1;
  return set;
}

const WHITESPACE = byteSet(" \t\n\r");
// A bare value (number, literal or garbage) runs until a byte that cannot be part of one, so
// that `[1"a"]` fails at the quote rather than inside JSON.parse.
const ENDS_SCALAR = byteSet(' \t\n\r,:[]{}"');

// Where the scanner is, relative to the top-level array.
const BEFORE_ARRAY = 0;
const AFTER_OPEN = 1; // after `[`: a value or `]`
const AFTER_COMMA = 2; // a value must follow
const IN_NESTED = 3; // inside an object, array or string element
const IN_SCALAR = 4; // inside a number, literal or garbage element
const AFTER_ELEMENT = 5; // `,` or `]`
const AFTER_ARRAY = 6; // only whitespace

/** Splits a byte stream into top-level array elements; fed one chunk at a time. */
class Scanner {
  /** The first error found; the scanner ignores input after it. */
  error: JsonSyntaxError | undefined;
  private state = BEFORE_ARRAY;
  /** Absolute offset of the current chunk's first byte. */
  private base = 0;
  private bomLength = 0;
  private commaOffset = 0;
  private index = 0;
  /** Absolute offset of the current element's first byte. */
  private start = 0;
  /** Copies of the current element's bytes from earlier chunks. */
  private parts: Buffer[] = [];
  /** The closing byte each open container expects, innermost last. */
  private closers: Uint8Array = new Uint8Array(64);
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** Scans one chunk, appending every element it completes to `out`. */
  write(chunk: Buffer, out: RawEntry[]): void {
    if (this.error) return;
    try {
      this.scan(chunk, out);
    } catch (err) {
      if (!(err instanceof JsonSyntaxError)) throw err;
      this.error = err;
    }
    this.base += chunk.length;
  }

  /** Checks that the input ended in a complete array; throws `JsonSyntaxError` if not. */
  end(): void {
    if (this.error) throw this.error;
    if (this.state === IN_NESTED || this.state === IN_SCALAR) {
      const earlier = this.problemInTruncated(Buffer.concat(this.parts));
      if (earlier) throw earlier;
    }
    const reason = this.endProblem();
    if (reason) throw new JsonSyntaxError(reason, this.state === BEFORE_ARRAY ? this.bomStart() : this.base);
  }

  private scan(chunk: Buffer, out: RawEntry[]): void {
    const length = chunk.length;
    let i = 0;
    while (i < length) {
      if (this.state === IN_NESTED) i = this.scanNested(chunk, i, out);
      else if (this.state === IN_SCALAR) i = this.scanScalar(chunk, i, out);
      else this.step(chunk[i], this.base + i++);
    }
    if (this.state === IN_NESTED || this.state === IN_SCALAR) {
      // Copied, because the producer may reuse the chunk's memory once we return.
      this.parts.push(Buffer.from(chunk.subarray(Math.max(0, this.start - this.base))));
    }
  }

  /** Handles one byte outside any element. */
  private step(byte: number, offset: number): void {
    const state = this.state;
    if (state === BEFORE_ARRAY) this.stepBeforeArray(byte, offset);
    else if (state === AFTER_OPEN || state === AFTER_COMMA) this.stepValueStart(byte, offset);
    else if (state === AFTER_ELEMENT) this.stepAfterElement(byte, offset);
    else if (!WHITESPACE[byte]) {
      throw new JsonSyntaxError(`unexpected ${describe(byte)} after the end of the top-level array`, offset);
    }
  }

  private stepBeforeArray(byte: number, offset: number): void {
    if (offset < BOM.length && this.bomLength === offset && byte === BOM[offset]) {
      this.bomLength++;
      return;
    }
    if (this.bomLength > 0 && this.bomLength < BOM.length) {
      throw new JsonSyntaxError("expected '[' to start the top-level array, found byte 0xEF", 0);
    }
    if (WHITESPACE[byte]) return;
    if (byte === OPEN_BRACKET) {
      this.state = AFTER_OPEN;
      return;
    }
    throw new JsonSyntaxError(`expected '[' to start the top-level array, found ${describe(byte)}`, offset);
  }

  private stepValueStart(byte: number, offset: number): void {
    if (WHITESPACE[byte]) return;
    const first = this.state === AFTER_OPEN;
    if (byte === CLOSE_BRACKET) {
      if (!first) throw new JsonSyntaxError("trailing comma before ']'", this.commaOffset);
      this.state = AFTER_ARRAY;
      return;
    }
    if (byte === COMMA || byte === COLON || byte === CLOSE_BRACE) {
      const expected = first ? "expected a value or ']' after '['" : "expected a value after ','";
      throw new JsonSyntaxError(`${expected}, found ${describe(byte)}`, offset);
    }
    this.start = offset;
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      this.closers[0] = closerOf(byte);
      this.depth = 1;
      this.state = IN_NESTED;
    } else if (byte === QUOTE) {
      this.inString = true;
      this.state = IN_NESTED;
    } else {
      this.state = IN_SCALAR;
    }
  }

  private stepAfterElement(byte: number, offset: number): void {
    if (WHITESPACE[byte]) return;
    if (byte === COMMA) {
      this.commaOffset = offset;
      this.state = AFTER_COMMA;
    } else if (byte === CLOSE_BRACKET) {
      this.state = AFTER_ARRAY;
    } else {
      throw new JsonSyntaxError(
        `expected ',' or ']' after an array element, found ${describe(byte)}`,
        offset,
      );
    }
  }

  /**
   * Scans an object, array or string element from `from`; returns where scanning stopped (the
   * chunk's end, or just past the element). Hot loop: state lives in locals.
   */
  private scanNested(chunk: Buffer, from: number, out: RawEntry[]): number {
    const length = chunk.length;
    let closers = this.closers;
    let depth = this.depth;
    let inString = this.inString;
    let escaped = this.escaped;
    for (let i = from; i < length; i++) {
      const byte = chunk[i];
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          if (depth === 0) return this.complete(chunk, i + 1, out);
        }
      } else if (byte === QUOTE) {
        inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (depth === closers.length) closers = this.growClosers();
        closers[depth++] = closerOf(byte);
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        // Checked here rather than left to JSON.parse, so that a mismatch cannot make the
        // element swallow the rest of the file.
        if (byte !== closers[depth - 1]) throw this.mismatch(chunk, i);
        if (--depth === 0) return this.complete(chunk, i + 1, out);
      }
    }
    this.depth = depth;
    this.inString = inString;
    this.escaped = escaped;
    return length;
  }

  /** Scans a number, literal or garbage element; the byte that ends it is left for `step`. */
  private scanScalar(chunk: Buffer, from: number, out: RawEntry[]): number {
    const length = chunk.length;
    for (let i = from; i < length; i++) {
      if (ENDS_SCALAR[chunk[i]]) return this.complete(chunk, i, out);
    }
    return length;
  }

  private growClosers(): Uint8Array {
    const grown = new Uint8Array(this.closers.length * 2);
    grown.set(this.closers);
    this.closers = grown;
    return grown;
  }

  /**
   * A closing bracket that does not match its opener. JSON.parse of the element so far names the
   * first real problem (which may be earlier, or a missing ':' rather than a wrong bracket).
   */
  private mismatch(chunk: Buffer, i: number): JsonSyntaxError {
    const text = this.decode(this.elementBytes(chunk, i + 1));
    return (
      this.problemIn(text) ??
      new JsonSyntaxError(`unexpected ${describe(chunk[i])} (array element ${this.index})`, this.base + i)
    );
  }

  /**
   * The input ended inside the current element, whose bytes so far are `bytes`. A problem
   * earlier in the element (bad UTF-8, bad syntax) is reported rather than the truncation.
   */
  private problemInTruncated(bytes: Buffer): JsonSyntaxError | undefined {
    let end = bytes.length;
    if (!isUtf8(bytes)) {
      end = firstInvalidUtf8(bytes);
      // A character cut off by the end of input is part of the truncation, not bad UTF-8.
      if (utf8SequenceLength(bytes, end) !== CUT_OFF) {
        return new JsonSyntaxError("invalid UTF-8 byte sequence", this.start + end);
      }
    }
    return this.problemIn(bytes.toString("utf8", 0, end));
  }

  /**
   * JSON.parse's complaint about `text` (a prefix of the current element), if it is about
   * something before the end of `text`; a complaint at the end only means the text is unfinished.
   */
  private problemIn(text: string): JsonSyntaxError | undefined {
    try {
      JSON.parse(text);
    } catch (err) {
      const position = errorPosition(err, text);
      if (position !== undefined && position < text.length) return this.parseError(err, text);
    }
    return undefined;
  }

  /** The element ends just before `end` in `chunk`: parses it and moves on. */
  private complete(chunk: Buffer, end: number, out: RawEntry[]): number {
    const text = this.decode(this.elementBytes(chunk, end));
    this.parts = [];
    try {
      out.push({ value: JSON.parse(text), text, offset: this.start, index: this.index });
    } catch (err) {
      throw this.parseError(err, text);
    }
    this.index++;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.state = AFTER_ELEMENT;
    return end;
  }

  /** The current element's bytes, up to just before `end` in `chunk`. */
  private elementBytes(chunk: Buffer, end: number): Buffer {
    if (this.parts.length === 0) return chunk.subarray(this.start - this.base, end);
    return Buffer.concat([...this.parts, chunk.subarray(0, end)]);
  }

  private decode(bytes: Buffer): string {
    if (!isUtf8(bytes)) {
      throw new JsonSyntaxError("invalid UTF-8 byte sequence", this.start + firstInvalidUtf8(bytes));
    }
    return bytes.toString("utf8");
  }

  /** Turns a JSON.parse error on the current element into a JsonSyntaxError at a byte offset. */
  private parseError(err: unknown, text: string): JsonSyntaxError {
    const position = errorPosition(err, text);
    // V8 counts UTF-16 code units; the offset counts bytes.
    const offset = this.start + (position === undefined ? 0 : Buffer.byteLength(text.slice(0, position)));
    return new JsonSyntaxError(
      `${plainParseMessage(errorMessage(err))} (array element ${this.index})`,
      offset,
    );
  }

  private endProblem(): string | undefined {
    switch (this.state) {
      case BEFORE_ARRAY:
        if (this.bomLength > 0 && this.bomLength < BOM.length) {
          return "expected '[' to start the top-level array, found byte 0xEF";
        }
        return "empty input: expected a JSON array";
      case AFTER_OPEN:
        return "unexpected end of input: expected a value or ']' after '['";
      case AFTER_COMMA:
        return "unexpected end of input: expected a value after ','";
      case IN_NESTED:
        return this.inString
          ? `unexpected end of input inside a string (array element ${this.index})`
          : `unexpected end of input inside array element ${this.index}`;
      case IN_SCALAR:
      case AFTER_ELEMENT:
        return "unexpected end of input: expected ',' or ']' after an array element";
      default:
        return undefined;
    }
  }

  /** Where to report a problem found before `[`: a partial BOM is reported at byte 0. */
  private bomStart(): number {
    return this.bomLength > 0 && this.bomLength < BOM.length ? 0 : this.base;
  }
}

/** `{` → `}` and `[` → `]`: both closers are two code points after their openers. */
function closerOf(opener: number): number {
  return opener + 2;
}

/** A byte as a reader would want to see it in a message. */
function describe(byte: number): string {
  if (byte > 0x20 && byte < 0x7f) return `'${String.fromCharCode(byte)}'`;
  return `byte 0x${byte.toString(16).toUpperCase().padStart(2, "0")}`;
}

const UNEXPECTED_END = "Unexpected end of JSON input";
const UNEXPECTED_TOKEN = /^Unexpected token '(.*?)', ".*" is not valid JSON$/s;

/** V8's JSON.parse message in plain words, without the echoed input or the char position. */
function plainParseMessage(message: string): string {
  const token = UNEXPECTED_TOKEN.exec(message);
  if (token) {
    const char = token[1];
    return `unexpected ${char.length === 1 && char < "\x80" ? describe(char.charCodeAt(0)) : `'${char}'`}`;
  }
  if (message.startsWith(UNEXPECTED_END)) return "incomplete value";
  const plain = message.replace(/, ".*" is not valid JSON$/s, "").replace(/ in JSON at position \d+.*$/s, "");
  return plain.charAt(0).toLowerCase() + plain.slice(1);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Where in `text` JSON.parse failed (in chars), when V8 says or it can be worked out. */
function errorPosition(err: unknown, text: string): number | undefined {
  const message = errorMessage(err);
  // Only a cut-short literal (`tru`) ends early; like V8 on a whole document, point past it.
  if (message.startsWith(UNEXPECTED_END)) return text.length;
  return parsePosition(message) ?? locateUnexpectedToken(text, message);
}

/** The char position in a V8 JSON.parse message ("... in JSON at position 12"), if any. */
function parsePosition(message: string): number | undefined {
  const match = /at position (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/**
 * V8 does not say where an "Unexpected token" is. Find it by bisecting on prefixes: a prefix
 * that stops before the bad token fails only at its end (or not at all), one that includes it
 * fails before its end. Runs only on the error path, about log2(length) parses.
 */
function locateUnexpectedToken(text: string, message: string): number | undefined {
  if (!UNEXPECTED_TOKEN.test(message)) return undefined;
  let low = 0; // longest prefix known to fail only at its end
  let high = text.length; // shortest prefix known to fail before its end
  while (high - low > 1) {
    const middle = (low + high) >>> 1;
    if (failsBeforeEnd(text.slice(0, middle))) high = middle;
    else low = middle;
  }
  return high - 1;
}

function failsBeforeEnd(prefix: string): boolean {
  try {
    JSON.parse(prefix);
    return false;
  } catch (err) {
    const message = errorMessage(err);
    if (message.startsWith(UNEXPECTED_END)) return false;
    const position = parsePosition(message);
    return position === undefined || position < prefix.length;
  }
}

/** Index of the first byte that starts an ill-formed UTF-8 sequence (Unicode table 3-7). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length <= 0) return i;
    i += length;
  }
  return bytes.length;
}

/** What `utf8SequenceLength` returns for a sequence that is well-formed so far but cut off. */
const CUT_OFF = -1;

/**
 * Length of the well-formed UTF-8 sequence at `i`; 0 if it is ill-formed, `CUT_OFF` if the
 * bytes end before it does.
 */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const lead = bytes[i];
  if (lead < 0x80) return 1;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0; // overlong
    if (lead === 0xed) high = 0x9f; // surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90; // overlong
    if (lead === 0xf4) high = 0x8f; // above U+10FFFF
  } else {
    return 0;
  }
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return CUT_OFF;
    const byte = bytes[i + k];
    if (byte < (k === 1 ? low : 0x80) || byte > (k === 1 ? high : 0xbf)) return 0;
  }
  return length;
}
