/**
 * JSON text exactly as Python's `json.dumps(..., indent=N, ensure_ascii=True)` writes it, which is
 * what Sentry's exports and findings files are made of: item separator `,`, key separator `: `,
 * every character outside 0x20-0x7E escaped as `\uXXXX` with lower-case hex, `/` not escaped.
 */

export interface DumpOptions {
  /** Spaces per nesting level; null writes compact JSON with `, ` and `: ` like Python. */
  indent: number | null;
  sortKeys?: boolean;
}

const SHORT_ESCAPES: Record<number, string> = {
  34: '\\"',
  92: "\\\\",
  10: "\\n",
  13: "\\r",
  9: "\\t",
  8: "\\b",
  12: "\\f",
};

const NEEDS_ESCAPE = /[^\x20-\x21\x23-\x5b\x5d-\x7e]/;

/** A JSON string literal with Python's ensure_ascii escaping. */
export function asciiString(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) out += s[i];
    else out += SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`;
  }
  return `${out}"`;
}

/**
 * A number whose JSON text JavaScript cannot carry in a `number`: a float with an integral value
 * (`100.0`, which `JSON.parse` turns into `100`) or an integer beyond 2^53. `text` is what Python
 * writes for it, so an export reproduces Sentry's bytes.
 */
export class PyNumber {
  constructor(readonly text: string) {}
  toJSON(): number {
    return Number(this.text);
  }
}

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 or from 1e16. */
export function pyFloat(n: number): string {
  const abs = Math.abs(n);
  // Between 1e-4 and 1e16 both languages write the shortest digits in positional form.
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(n) ? `${n}.0` : String(n);
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : n < 0 ? "-Infinity" : "NaN";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const sign = n < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(n).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  const e = Number(exp);
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  const point = e + 1;
  if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * orjson's float text (the encrypted export's payload): shortest round-trip digits, positional
 * from 1e-5 up to 1e16, otherwise `1e16`, `1.5e-7` (no `+`, no padding). Python's `json` differs in
 * both: exponent form below 1e-4, and `1e+16`, `1.5e-07`. orjson writes NaN and infinities as null.
 */
export function orjsonFloat(n: number): string {
  if (!Number.isFinite(n)) return "null";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const sign = n < 0 ? "-" : "";
  const [mantissa, exp] = Math.abs(n).toExponential().split("e");
  const digits = mantissa.replace(".", "");
  // `point`: where the decimal point goes, counted from the first digit.
  const point = Number(exp) + 1;
  if (point > 0 && point <= 16) {
    if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }
  if (point > -5 && point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${point - 1}`;
}

/**
 * A JavaScript number as Python writes the value it came from: integral values as ints (a float
 * with an integral value arrives as a PyNumber instead), everything else as Python's float repr.
 */
export function pyNumber(n: number): string {
  if (Number.isInteger(n)) return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
  return pyFloat(n);
}

/** Python's text for a JSON number lexeme: ints exactly, floats by `repr(float(lexeme))`. */
export function pyNumberText(lexeme: string): string {
  if (/^-?\d+$/.test(lexeme)) return BigInt(lexeme).toString();
  return pyFloat(Number(lexeme));
}

export function dumpJson(value: unknown, opts: DumpOptions, level = 0): string {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return asciiString(value);
    case "number":
      return pyNumber(value);
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
  }
  if (value instanceof PyNumber) return value.text;
  if (Array.isArray(value)) return dumpArray(value, opts, level);
  return dumpObject(value as Record<string, unknown>, opts, level);
}

function separators(opts: DumpOptions, level: number) {
  if (opts.indent === null) return { open: "", item: ", ", close: "" };
  const inner = `\n${" ".repeat(opts.indent * (level + 1))}`;
  return { open: inner, item: `,${inner}`, close: `\n${" ".repeat(opts.indent * level)}` };
}

function dumpArray(items: unknown[], opts: DumpOptions, level: number): string {
  if (items.length === 0) return "[]";
  const sep = separators(opts, level);
  return `[${sep.open}${items.map((v) => dumpJson(v, opts, level + 1)).join(sep.item)}${sep.close}]`;
}

function dumpObject(obj: Record<string, unknown>, opts: DumpOptions, level: number): string {
  let keys = Object.keys(obj).filter((k) => obj[k] !== undefined);
  if (keys.length === 0) return "{}";
  if (opts.sortKeys) keys = keys.sort(byCodePoint);
  const sep = separators(opts, level);
  const parts = keys.map((k) => `${asciiString(k)}: ${dumpJson(obj[k], opts, level + 1)}`);
  return `{${sep.open}${parts.join(sep.item)}${sep.close}}`;
}

/** Python's string order (by code point); JavaScript's default sort compares UTF-16 units. */
export function byCodePoint(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

const NUMBER_TOKEN = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ASCII_SAFE = /^[\x20-\x7e]*$/;

/**
 * Re-lays out JSON text the way `dumpJson` would write its value, without building the value:
 * Python's indentation, separators and ASCII escaping; a number with a fraction or an exponent
 * is a float (`pyFloat`, or `orjsonFloat` for compact output), any other keeps its digits. Export uses it on stored JSON columns.
 * `level` is the nesting level the value starts at. A null `indent` writes compact JSON with raw
 * UTF-8 strings, as the orjson payload of an encrypted export is.
 */
export function reindentJson(text: string, indent: number | null, level: number): string {
  let out = "";
  let depth = level;
  const pads: string[] = [];
  const pad = (d: number) => {
    if (indent === null) return "";
    pads[d] ??= `\n${" ".repeat(indent * d)}`;
    return pads[d];
  };
  const colon = indent === null ? ":" : ": ";
  const quote = indent === null ? (s: string) => JSON.stringify(s) : asciiString;
  for (let i = 0; i < text.length; ) {
    const c = text[i];
    if (c === " " || c === "\n" || c === "\r" || c === "\t") {
      i++;
    } else if (c === "{" || c === "[") {
      let j = i + 1;
      while (j < text.length && " \n\r\t".includes(text[j])) j++;
      if (text[j] === (c === "{" ? "}" : "]")) {
        out += c === "{" ? "{}" : "[]";
        i = j + 1;
      } else {
        depth++;
        out += c + pad(depth);
        i++;
      }
    } else if (c === "}" || c === "]") {
      depth--;
      out += pad(depth) + c;
      i++;
    } else if (c === ",") {
      out += `,${pad(depth)}`;
      i++;
    } else if (c === ":") {
      out += colon;
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      const literal = text.slice(i, j + 1);
      // ASCII without escapes reads the same in both; anything else is decoded and re-escaped.
      out += ASCII_SAFE.test(literal) && !literal.includes("\\") ? literal : quote(JSON.parse(literal));
      i = j + 1;
    } else if (c === "t" || c === "f" || c === "n") {
      const word = c === "t" ? "true" : c === "f" ? "false" : "null";
      out += word;
      i += word.length;
    } else {
      NUMBER_TOKEN.lastIndex = i;
      const m = NUMBER_TOKEN.exec(text);
      if (!m) throw new SyntaxError(`unexpected ${JSON.stringify(c)} at ${i} in stored JSON`);
      const token = m[0];
      if (!/[.eE]/.test(token)) out += token;
      else out += indent === null ? orjsonFloat(Number(token)) : pyFloat(Number(token));
      i += token.length;
    }
  }
  return out;
}
