/**
 * JSON text as orjson writes it, which is what Sentry's `backup sanitize` outputs: with
 * `OPT_INDENT_2` for a plain file (`": "` after keys, no space after commas, empty containers as
 * `{}` and `[]`) or compact for an encrypted one; raw UTF-8 in both; Python floats in orjson's
 * (ryu's) notation, which differs from `json.dumps` (`1e16`, `1.5e-7`, `0.00001`).
 */
import { orjsonFloat } from "../pyjson.js";

export { orjsonFloat };

/** A number lexeme from the input, as orjson writes the value Python parsed from it. */
export function orjsonNumber(lexeme: string): string {
  if (/^-?\d+$/.test(lexeme)) return lexeme === "-0" ? "0" : lexeme;
  return orjsonFloat(Number(lexeme));
}

/** The layout of one output: indented (a plain file) or compact (an encrypted payload). */
export class Layout {
  /** `indent`: spaces per level, or null for compact output. */
  constructor(readonly indent: number | null) {}

  /** What goes between a key and its value. */
  get colon(): string {
    return this.indent === null ? ":" : ": ";
  }

  private readonly pads: string[] = [];

  /** The line break and indentation before an item at nesting `level` (nothing when compact). */
  pad(level: number): string {
    if (this.indent === null) return "";
    this.pads[level] ??= `\n${" ".repeat(this.indent * level)}`;
    return this.pads[level];
  }

  /**
   * Re-lays out valid JSON `text` (a value starting at nesting `level`) in this layout, keeping
   * key order and duplicate keys as written; strings keep their characters, numbers their value.
   */
  relayout(text: string, level: number): string {
    const first = text[0];
    // Scalars, most values, need no walk.
    if (first === '"') return text.includes("\\") ? JSON.stringify(JSON.parse(text)) : text;
    if (first !== "{" && first !== "[")
      return first === "t" || first === "f" || first === "n" ? text : orjsonNumber(text);
    let out = "";
    let depth = level;
    for (let i = 0; i < text.length; ) {
      const c = text[i];
      if (c === " " || c === "\n" || c === "\r" || c === "\t") {
        i++;
      } else if (c === "{" || c === "[") {
        const close = c === "{" ? "}" : "]";
        let j = i + 1;
        while (j < text.length && isSpace(text[j])) j++;
        if (text[j] === close) {
          out += c + close;
          i = j + 1;
        } else {
          out += c + this.pad(++depth);
          i++;
        }
      } else if (c === "}" || c === "]") {
        out += this.pad(--depth) + c;
        i++;
      } else if (c === ",") {
        out += `,${this.pad(depth)}`;
        i++;
      } else if (c === ":") {
        out += this.colon;
        i++;
      } else if (c === '"') {
        const end = stringEnd(text, i);
        const literal = text.slice(i, end);
        // Without escapes a literal reads the same in orjson's output; with them, re-escape.
        out += literal.includes("\\") ? JSON.stringify(JSON.parse(literal)) : literal;
        i = end;
      } else if (c === "t" || c === "f" || c === "n") {
        const word = c === "t" ? "true" : c === "f" ? "false" : "null";
        out += word;
        i += word.length;
      } else {
        const end = scalarEnd(text, i);
        out += orjsonNumber(text.slice(i, end));
        i = end;
      }
    }
    return out;
  }
}

function isSpace(c: string): boolean {
  return c === " " || c === "\n" || c === "\r" || c === "\t";
}

/** The index just past the string literal that starts at `start` (its opening quote). */
export function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    i += c === 0x5c ? 2 : 1;
  }
}

/** The index just past the number or literal that starts at `start`. */
export function scalarEnd(text: string, start: number): number {
  let i = start;
  while (i < text.length && !",]}: \n\r\t".includes(text[i])) i++;
  return i;
}
