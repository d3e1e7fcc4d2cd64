/**
 * The whole observable state of a database, to prove an operation left it untouched: every
 * table's rows and, on PostgreSQL, every id sequence (sequences are not rolled back with a
 * transaction, so a dry run that advanced one would show here).
 */
import { sql } from "kysely";
import { registry } from "../../src/models/registry.js";
import type { Store } from "../../src/store/types.js";
import { snapshot } from "./import.js";

export async function dbState(store: Store): Promise<string> {
  const tables = await snapshot(
    store,
    registry.ordered.map((m) => m.table),
  );
  if (store.dialect !== "postgres") return tables;
  const { rows } = await sql<{
    name: string;
    last_value: string | null;
  }>`SELECT sequencename AS name, last_value FROM pg_sequences WHERE schemaname = current_schema() ORDER BY sequencename`.execute(
    store.db,
  );
  return `${tables}\n${JSON.stringify(rows)}`;
}

/** A row trigger that runs `statement` (which may use NEW) after each insert into `table`. */
export async function addTrigger(store: Store, table: string, statement: string): Promise<void> {
  if (store.dialect === "sqlite") {
    await sql
      .raw(`CREATE TRIGGER relo_test_${table} AFTER INSERT ON "${table}" BEGIN ${statement}; END`)
      .execute(store.db);
    return;
  }
  await sql
    .raw(
      `CREATE FUNCTION relo_test_${table}() RETURNS trigger AS $$ BEGIN ${statement}; RETURN NULL; END $$ LANGUAGE plpgsql`,
    )
    .execute(store.db);
  await sql
    .raw(
      `CREATE TRIGGER relo_test_${table} AFTER INSERT ON "${table}" FOR EACH ROW EXECUTE FUNCTION relo_test_${table}()`,
    )
    .execute(store.db);
}
