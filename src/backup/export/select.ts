/**
 * Reads a model's rows for export: every row with `pk > 0`, in pk order, field values in their
 * export form, a chunk at a time.
 */
import type { FieldDef, ModelDef } from "../../models/types.js";
import { fromDb } from "../../store/codec.js";
import type { Dialect, Store } from "../../store/types.js";

export interface Row {
  pk: number;
  /** Export-form values, in `model.fields` order; JSON fields as their stored text. */
  values: unknown[];
}

function columnSql(field: FieldDef, dialect: Dialect): string {
  const col = `"${field.column}"`;
  // The server formats datetimes itself: parsing its default text in JavaScript costs more.
  if (dialect === "postgres" && field.type === "datetime") {
    return `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  }
  return col;
}

/** The select list of an export: `"id"`, then every field's column in declaration order. */
export function selectColumns(model: ModelDef, dialect: Dialect): string[] {
  return ['"id"', ...model.fields.map((f) => columnSql(f, dialect))];
}

/** The rows of one model, decoded, in chunks. */
export async function* selectRows(store: Store, model: ModelDef): AsyncGenerator<Row[]> {
  const fields = model.fields;
  for await (const chunk of store.scanTable(model.table, selectColumns(model, store.dialect))) {
    const rows: Row[] = new Array(chunk.length);
    for (let r = 0; r < chunk.length; r++) {
      const raw = chunk[r];
      const values = new Array(fields.length);
      for (let i = 0; i < fields.length; i++) {
        // JSON stays text here: the formatter lays it out without parsing it (toInstance parses).
        values[i] = fields[i].type === "json" ? raw[i + 1] : fromDb(fields[i], raw[i + 1]);
      }
      rows[r] = { pk: Number(raw[0]), values };
    }
    yield rows;
  }
}
