/**
 * The strings inside a JSON text. Option values and ownership schemas are JSON (a JSON value, or
 * a string holding JSON text), and the secrets and addresses in them sit in string values; the
 * rest of the text (keys, numbers, layout) is left as it is, so nothing else changes.
 */
import { stringEnd } from "./format.js";

/**
 * `text` (valid JSON) with every string value passed through `map`, which also gets the key of
 * the object member that holds it (null in an array or at the top). Object keys stay, and a
 * string `map` returns unchanged keeps its own literal.
 */
export function mapJsonStrings(text: string, map: (value: string, key: string | null) => string): string {
  // Per open container, the key of the member being read (always null in an array).
  const keys: (string | null)[] = [];
  let out = "";
  let copied = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "{" || c === "[") keys.push(null);
    else if (c === "}" || c === "]") keys.pop();
    if (c !== '"') continue;
    const end = stringEnd(text, i);
    const value = JSON.parse(text.slice(i, end)) as string;
    if (isKey(text, end)) {
      keys[keys.length - 1] = value;
    } else {
      const mapped = map(value, keys.at(-1) ?? null);
      if (mapped !== value) {
        out += text.slice(copied, i) + JSON.stringify(mapped);
        copied = end;
      }
    }
    i = end - 1;
  }
  return out + text.slice(copied);
}

/** Whether the string literal ending at `end` is an object key (a `:` follows it). */
function isKey(text: string, end: number): boolean {
  let i = end;
  while (i < text.length && " \n\r\t".includes(text[i])) i++;
  return text[i] === ":";
}
