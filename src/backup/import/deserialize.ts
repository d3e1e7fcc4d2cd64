/**
 * Turns an export entry's `fields` into a complete, typed field set for its model: checks every
 * value against the field's type with a schema compiled once per model (TypeBox), fills fields an
 * older export omits from their defaults, and drops fields the model does not have (Sentry
 * ignores unknown fields).
 */
import Type, { type TSchema } from "typebox";
import { Compile } from "typebox/compile";
import type { FieldDef, ModelDef } from "../../models/types.js";
import { isDatetime } from "../../store/codec.js";
import type { PendingRow } from "./context.js";

/** A field value that cannot be imported. Write hooks throw it with the offending `row`. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
    /** true for a well-typed value that breaks a rule (Sentry: ValidationError). */
    readonly isValidation = false,
    readonly row?: PendingRow,
  ) {
    super(message);
  }
}

function valueSchema(field: FieldDef): TSchema {
  switch (field.type) {
    case "int":
    case "bigint":
      return Type.Integer();
    case "float":
      return Type.Number();
    case "bool":
      return Type.Boolean();
    case "bitfield":
      return Type.Union([Type.String({ pattern: "^-?[0-9]+$" }), Type.Integer()]);
    case "json":
      return Type.Unknown();
    default:
      return Type.String();
  }
}

type Checker = ReturnType<typeof Compile>;
const compiled = new WeakMap<FieldDef, Checker>();

function checkerFor(field: FieldDef): Checker {
  let c = compiled.get(field);
  if (!c) {
    const base = valueSchema(field);
    c = Compile(field.nullable ? Type.Union([base, Type.Null()]) : base);
    compiled.set(field, c);
  }
  return c;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

function describeExpected(field: FieldDef): string {
  const t =
    {
      int: "an integer",
      bigint: "an integer",
      float: "a number",
      bool: "true or false",
      bitfield: "a decimal string",
      json: "JSON",
    }[field.type as string] ?? "a string";
  return field.nullable ? `${t} or null` : t;
}

function defaultValue(field: FieldDef): unknown {
  const d = field.default;
  return typeof d === "function" ? (d as () => unknown)() : d;
}

function checkValue(field: FieldDef, value: unknown): void {
  if (!checkerFor(field).Check(value)) {
    throw new FieldError(
      field.name,
      `field \`${field.name}\` must be ${describeExpected(field)}, got ${typeName(value)} ${JSON.stringify(value)?.slice(0, 60)}`,
    );
  }
  if (typeof value !== "string") return;
  if (field.type === "datetime" && !isDatetime(value)) {
    throw new FieldError(
      field.name,
      `field \`${field.name}\` is not a valid datetime: ${JSON.stringify(value)}`,
    );
  }
  // Characters are code points; a string has at least as many UTF-16 units, so only a long one
  // needs counting (spreading every string cost a measurable share of an import's garbage).
  if (field.maxLength !== undefined && value.length > field.maxLength) {
    const characters = [...value].length;
    if (characters > field.maxLength) {
      throw new FieldError(
        field.name,
        `field \`${field.name}\` must have at most ${field.maxLength} characters (it has ${characters})`,
        true,
      );
    }
  }
}

/** The complete field set of `model` from an export entry's `fields`, or a FieldError. */
export function deserializeFields(model: ModelDef, raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of model.fields) {
    let value = raw[field.name];
    if (value === undefined) {
      if ("default" in field) value = defaultValue(field);
      else if (field.nullable) value = null;
      else throw new FieldError(field.name, `field \`${field.name}\` is missing and has no default`);
    }
    checkValue(field, value);
    out[field.name] = value;
  }
  return out;
}
