/**
 * Export entries written exactly as Sentry's `json.dump(rows, indent=N)` writes them: key order
 * `model`, `pk`, `fields`; fields in declaration order; ASCII-escaped strings; Python's number
 * forms; `.mmmZ` datetimes. With a null indent, compact JSON with raw UTF-8 strings instead (the
 * payload of an encrypted export, which Sentry writes with orjson).
 */
import type { FieldDef, ModelDef } from "../../models/types.js";
import { stringifyLossless } from "../lossless.js";
import { asciiString, orjsonFloat, pyFloat, pyNumber, reindentJson } from "../pyjson.js";

type Format = (value: unknown) => string;

function formatter(field: FieldDef, indent: number | null): Format {
  const quote =
    indent === null ? (v: unknown) => JSON.stringify(String(v)) : (v: unknown) => asciiString(String(v));
  switch (field.type) {
    case "int":
    case "bigint":
      return (v) => pyNumber(v as number);
    case "float":
      return indent === null ? (v) => orjsonFloat(v as number) : (v) => pyFloat(v as number);
    case "bool":
      return (v) => (v ? "true" : "false");
    case "json":
      // Values of a fields object sit at nesting level 3 (array, entry, fields). Rows carry the
      // stored JSON text (see select.ts), laid out again without being parsed.
      return (v) =>
        typeof v === "string" ? reindentJson(v, indent, 3) : reindentJson(stringifyLossless(v), indent, 3);
    default:
      return quote;
  }
}

/** Writes one model's entries; `values` are export-form field values in `model.fields` order. */
export class EntryFormatter {
  private readonly keys: string[];
  private readonly formats: Format[];
  private readonly head: string;
  private readonly fieldsOpen: string;
  private readonly close: string;

  constructor(model: ModelDef, indent: number | null) {
    const at = (level: number) => (indent === null ? "" : `\n${" ".repeat(indent * level)}`);
    const [i1, i2, i3] = [at(1), at(2), at(3)];
    const colon = indent === null ? ":" : ": ";
    this.keys = model.fields.map((f, n) => `${n === 0 ? i3 : `,${i3}`}${asciiString(f.name)}${colon}`);
    this.formats = model.fields.map((f) => formatter(f, indent));
    this.head = `{${i2}"model"${colon}${asciiString(model.name)},${i2}"pk"${colon}`;
    const empty = model.fields.length === 0;
    this.fieldsOpen = `,${i2}"fields"${colon}${empty ? "{}" : "{"}`;
    this.close = `${empty ? "" : `${i2}}`}${i1}}`;
  }

  format(pk: number, values: unknown[]): string {
    let out = this.head + pk + this.fieldsOpen;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out += this.keys[i] + (v === null || v === undefined ? "null" : this.formats[i](v));
    }
    return out + this.close;
  }
}
