/**
 * DDL derived from the model registry: one table per model with Sentry's table and column names,
 * unique indexes for every unique set, and foreign key constraints for real Django foreign keys
 * (hybrid-cloud and implicit ones have none in Sentry either).
 */
import type { FieldDef, ModelDef } from "../models/types.js";
import type { Dialect } from "./codec.js";

const SQLITE_TYPES: Record<FieldDef["type"], string> = {
  int: "INTEGER",
  bigint: "INTEGER",
  float: "REAL",
  bool: "INTEGER",
  string: "TEXT",
  text: "TEXT",
  datetime: "TEXT",
  date: "TEXT",
  json: "TEXT",
  bitfield: "INTEGER",
  uuid: "TEXT",
  ip: "TEXT",
  decimal: "TEXT",
};

const PG_TYPES: Record<FieldDef["type"], string> = {
  int: "integer",
  bigint: "bigint",
  float: "double precision",
  bool: "boolean",
  string: "varchar",
  text: "text",
  datetime: "timestamptz",
  date: "date",
  json: "text",
  bitfield: "bigint",
  uuid: "varchar(36)",
  ip: "inet",
  decimal: "numeric",
};

function q(name: string): string {
  return `"${name}"`;
}

function columnType(field: FieldDef, dialect: Dialect): string {
  if (dialect === "sqlite") return SQLITE_TYPES[field.type];
  if (field.type === "string") return field.maxLength ? `varchar(${field.maxLength})` : "text";
  // An int FK column must hold the target's bigint id.
  if (field.fk) return "bigint";
  return PG_TYPES[field.type];
}

/** Foreign keys Sentry backs with a database constraint. */
function hasConstraint(field: FieldDef, tables: Map<string, string>): boolean {
  if (!field.fk || !tables.has(field.fk.model)) return false;
  return field.fk.kind !== "HybridCloudForeignKey" && field.fk.kind !== "ImplicitForeignKey";
}

function columnSql(field: FieldDef, dialect: Dialect, tables: Map<string, string>, model: ModelDef): string {
  let sql = `${q(field.column)} ${columnType(field, dialect)}${field.nullable ? "" : " NOT NULL"}`;
  const target = field.fk ? tables.get(field.fk.model) : undefined;
  if (target && hasConstraint(field, tables) && field.fk!.model !== model.name) {
    sql += ` REFERENCES ${q(target)} ("id") DEFERRABLE INITIALLY DEFERRED`;
  }
  return sql;
}

export function createTableSql(model: ModelDef, dialect: Dialect, tables: Map<string, string>): string {
  let id = dialect === "sqlite" ? `"id" INTEGER PRIMARY KEY` : `"id" bigserial PRIMARY KEY`;
  if (model.stringId) id = `"id" ${dialect === "sqlite" ? "TEXT" : `varchar(${model.stringId})`} PRIMARY KEY`;
  const cols = model.fields.map((f) => columnSql(f, dialect, tables, model));
  return `CREATE TABLE IF NOT EXISTS ${q(model.table)} (\n  ${[id, ...cols].join(",\n  ")}\n)`;
}

/** The WHERE clause of a conditional unique index, or "" for an unconditional one. */
function indexCondition(model: ModelDef, set: string[], dialect: Dialect): string {
  const cond = model.uniqueConditions?.[set.join(",")];
  if (!cond) return "";
  const column = q(model.fields.find((f) => f.name === cond.field)!.column);
  if ("isNull" in cond) return ` WHERE ${column} IS ${cond.isNull ? "" : "NOT "}NULL`;
  const value =
    typeof cond.equals === "boolean"
      ? dialect === "sqlite"
        ? String(Number(cond.equals))
        : String(cond.equals)
      : `'${cond.equals.replace(/'/g, "''")}'`;
  return ` WHERE ${column} = ${value}`;
}

export function createIndexSql(model: ModelDef, dialect: Dialect = "postgres"): string[] {
  const byName = new Map(model.fields.map((f) => [f.name, f]));
  const out: string[] = [];
  model.uniques.forEach((set, i) => {
    const fields = set.map((name) => byName.get(name)).filter((f): f is FieldDef => f !== undefined);
    if (fields.length === 0 || fields.length !== set.length) return;
    const cols = fields.map((f) => (f.caseInsensitive ? `lower(${q(f.column)})` : q(f.column)));
    const name = `${model.table}_uniq_${i}`;
    const where = indexCondition(model, set, dialect);
    out.push(
      `CREATE UNIQUE INDEX IF NOT EXISTS ${q(name)} ON ${q(model.table)} (${cols.join(", ")})${where}`,
    );
  });
  for (const f of model.fields) {
    if (!f.fk) continue;
    const name = `${model.table}_${f.column}_idx`;
    out.push(`CREATE INDEX IF NOT EXISTS ${q(name)} ON ${q(model.table)} (${q(f.column)})`);
  }
  return out;
}

/** Statements creating every table then every index, tables in dependency order. */
export function schemaSql(models: ModelDef[], dialect: Dialect): string[] {
  const tables = new Map(models.map((m) => [m.name, m.table]));
  return [
    ...models.map((m) => createTableSql(m, dialect, tables)),
    ...models.flatMap((m) => createIndexSql(m, dialect)),
  ];
}
