/**
 * Converts field values between their export form (JSON) and their database form, per field type
 * and dialect. Values reaching `toDb` have already been validated against the model's schema.
 */
import { hasPyNumber, parseStoredJson, stringifyLossless } from "../backup/lossless.js";
import type { FieldDef } from "../models/types.js";

export type Dialect = "sqlite" | "postgres";

/** A datetime in the one form relo stores and exports: `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC. */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function canonicalDatetime(value: string | Date): string {
  if (typeof value === "string" && CANONICAL.test(value)) return value;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) throw new Error(`not a datetime: ${JSON.stringify(value)}`);
  return d.toISOString();
}

export function isDatetime(value: string): boolean {
  if (CANONICAL.test(value)) return !Number.isNaN(Date.parse(value));
  return (
    /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value) &&
    !Number.isNaN(new Date(value).getTime())
  );
}

export function toDb(field: FieldDef, value: unknown, dialect: Dialect): unknown {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case "bool":
      return dialect === "sqlite" ? (value ? 1 : 0) : Boolean(value);
    case "datetime":
      return canonicalDatetime(value as string);
    case "json":
      return hasPyNumber(value) ? stringifyLossless(value) : JSON.stringify(value);
    case "bitfield":
      return Number(value);
    default:
      return value;
  }
}

export function fromDb(field: FieldDef, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (field.type) {
    case "bool":
      return value === true || value === 1 || value === "1" || value === "t";
    case "int":
    case "bigint":
    case "float":
      return typeof value === "number" ? value : Number(value);
    case "datetime":
      if (typeof value === "string" && CANONICAL.test(value)) return value;
      return canonicalDatetime(value instanceof Date ? value : pgTimestampToIso(String(value)));
    case "date":
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value);
    case "json":
      return typeof value === "string" ? parseStoredJson(value) : value;
    case "bitfield":
      return String(value);
    default:
      return value;
  }
}

/** PostgreSQL prints `2023-06-22 22:59:57.023+00`; make it ISO so Date parses it everywhere. */
function pgTimestampToIso(s: string): string {
  return s.replace(" ", "T").replace(/([+-]\d{2})$/, "$1:00");
}
