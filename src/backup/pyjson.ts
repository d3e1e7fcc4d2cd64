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

/** A number as Python's repr writes a float or int (`1e+16`, `1.5e-07`). */
export function pyNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : n < 0 ? "-Infinity" : "NaN";
  const s = String(n);
  const e = s.indexOf("e");
  if (e < 0) return s;
  const mantissa = s.slice(0, e);
  const sign = s[e + 1] === "-" ? "-" : "+";
  const digits = s.slice(e + 2).padStart(2, "0");
  return `${mantissa}e${sign}${digits}`;
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
  if (opts.sortKeys) keys = keys.sort();
  const sep = separators(opts, level);
  const parts = keys.map((k) => `${asciiString(k)}: ${dumpJson(obj[k], opts, level + 1)}`);
  return `{${sep.open}${parts.join(sep.item)}${sep.close}}`;
}
