/**
 * Compact JSON for `relo backup encrypt`, which (like Sentry's) re-serializes the input without
 * whitespace before encrypting it. Streamed entry by entry, and done by removing whitespace
 * outside strings rather than by re-serializing, so number lexemes (`100.0`, `1e+16`) and string
 * escapes stay exactly as they were.
 */
import { InputError } from "../errors.js";
import { readEntries } from "../reader.js";
import type { ByteSource } from "./index.js";

/** `json` without whitespace outside strings. `json` must be valid JSON (it is, once parsed). */
export function stripWhitespace(json: string): string {
  const parts: string[] = [];
  let kept = 0;
  let i = 0;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(json, i + 1);
    } else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      parts.push(json.slice(kept, i));
      while (i < json.length && /[ \t\n\r]/.test(json[i])) i++;
      kept = i;
    } else {
      i++;
    }
  }
  parts.push(json.slice(kept));
  return parts.join("");
}

/** The index just past the closing quote of the string whose contents start at `from`. */
function stringEnd(json: string, from: number): number {
  let quote = json.indexOf('"', from);
  while (quote !== -1) {
    let slashes = 0;
    while (json.charCodeAt(quote - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    quote = json.indexOf('"', quote + 1);
  }
  return json.length;
}

/**
 * The export array of `source`, compacted. Fails with an `InputError` naming the byte offset
 * when the input is not a JSON array.
 */
export async function* compactExport(source: ByteSource): AsyncGenerator<Buffer> {
  let first = true;
  let pending: string[] = [];
  let size = 0;
  try {
    for await (const entry of readEntries(source as AsyncIterable<Uint8Array>)) {
      const text = stripWhitespace(entry.text);
      pending.push(first ? `[${text}` : `,${text}`);
      first = false;
      size += text.length;
      if (size >= 1 << 20) {
        yield Buffer.from(pending.join(""), "utf8");
        pending = [];
        size = 0;
      }
    }
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`Invalid input JSON: ${err.message}`, err.offset);
    throw err;
  }
  pending.push(first ? "[]" : "]");
  yield Buffer.from(pending.join(""), "utf8");
}
