/**
 * JSON parsing that keeps what `JSON.parse` loses of numbers: whether an integral value was
 * written as a float (`100.0`) and the digits of integers beyond 2^53. Such numbers become
 * `PyNumber`s holding Python's text for them; all other values are what `JSON.parse` returns.
 *
 * Sentry writes exports with Python, which keeps `100.0` a float and writes it back as `100.0`.
 * relo parses the few entries that may hold such numbers with this parser, stores the numbers'
 * text, and so writes the same bytes back on export.
 */
import { PyNumber, pyNumberText } from "./pyjson.js";

/**
 * True when the text may hold a number that `JSON.parse` would change: a fraction of zeros, an
 * exponent or 16+ digits. It may also match inside a string that looks like the end of a number;
 * that only costs a slower parse.
 */
export function mayNeedLossless(text: string): boolean {
  return LOSSY.test(text);
}

// Each alternative must end where a JSON number ends (before `,`, `}`, `]` or white space), so
// that timestamps (`00.000Z`), hex tokens (`1e5f`) and digit runs inside strings do not match.
const LOSSY = /\d\.0+(?=[\s,\]}])|\d[eE][+-]?\d+(?=[\s,\]}])|[\s:[,]-?\d{16,}(?=[\s,\]}])/;

/** Parses JSON text (assumed valid: callers have already parsed it with `JSON.parse`). */
export function parseLossless(text: string): unknown {
  const p = new Parser(text);
  const value = p.value();
  return value;
}

/** True when `value` holds a PyNumber anywhere. */
export function hasPyNumber(value: unknown): boolean {
  if (value === null || typeof value !== "object") return false;
  if (value instanceof PyNumber) return true;
  // Loops, not Object.values: this runs over every JSON value written, chunk maps included.
  if (Array.isArray(value)) {
    for (const v of value) if (hasPyNumber(v)) return true;
    return false;
  }
  for (const key in value) if (hasPyNumber((value as Record<string, unknown>)[key])) return true;
  return false;
}

/** Compact JSON text that writes PyNumbers as their text (JSON.stringify would lose it). */
export function stringifyLossless(value: unknown): string {
  if (value instanceof PyNumber) return value.text;
  if (Array.isArray(value)) return `[${value.map(stringifyLossless).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) parts.push(`${JSON.stringify(k)}:${stringifyLossless(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** Parses a stored JSON column, keeping number text where it matters. */
export function parseStoredJson(text: string): unknown {
  return mayNeedLossless(text) ? parseLossless(text) : JSON.parse(text);
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

class Parser {
  private i = 0;
  constructor(private readonly s: string) {}

  value(): unknown {
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    return this.number();
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      this.ws();
      this.i++; // ':'
      const v = this.value();
      if (key === "__proto__")
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true });
      else out[key] = v;
      this.ws();
      if (this.s[this.i++] === "}") return out;
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      if (this.s[this.i++] === "]") return out;
    }
  }

  private string(): string {
    STRING.lastIndex = this.i;
    const m = STRING.exec(this.s);
    if (!m) throw new SyntaxError(`bad JSON string at ${this.i}`);
    this.i += m[0].length;
    return JSON.parse(m[0]);
  }

  private number(): number | PyNumber {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) throw new SyntaxError(`bad JSON value at ${this.i}`);
    this.i += m[0].length;
    const lexeme = m[0];
    const n = Number(lexeme);
    const isFloat = /[.eE]/.test(lexeme);
    if (isFloat ? Number.isInteger(n) : !Number.isSafeInteger(n)) return new PyNumber(pyNumberText(lexeme));
    return n;
  }

  private literal<T>(word: string, v: T): T {
    this.i += word.length;
    return v;
  }

  private ws(): void {
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }
}
