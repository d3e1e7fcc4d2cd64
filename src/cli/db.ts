/**
 * `relo db migrate`: creates the schema explicitly (every other command also creates it on first
 * use).
 */
import { Command } from "@commander-js/extra-typings";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP } from "./args.js";

export function dbCommand(): Command {
  const cmd = new Command("db").description("Manage relo's database.");
  cmd
    .command("migrate")
    .description("Create every table and index relo needs (safe to run again).")
    .option("--db <url>", DB_HELP)
    .action(async (o) => {
      const store = await openStore(resolveDatabaseUrl(o.db));
      process.stderr.write(`Schema is up to date: ${store.location}\n`);
      await store.close();
    });
  return cmd;
}
