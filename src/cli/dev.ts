/**
 * `relo dev ...`: tools for developing and testing relo itself.
 */
import { Command, InvalidArgumentError } from "@commander-js/extra-typings";
import { populate } from "../dev/populate.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP } from "./args.js";

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError("expected a whole number >= 0");
  return n;
}

export function devCommand() {
  const cmd = new Command("dev").description("Tools for developing and testing relo.");
  cmd
    .command("populate")
    .description("Fill the database with a deterministic instance: every exportable model, every field set.")
    .requiredOption("--seed <n>", "the same seed gives the same rows", positiveInt)
    .option("--rows <n>", "rows per model", positiveInt, 3)
    .option("--db <url>", DB_HELP)
    .action(async (o) => {
      const store = await openStore(resolveDatabaseUrl(o.db));
      try {
        const result = await populate(store, { seed: o.seed, rows: o.rows });
        for (const s of result.skipped) process.stderr.write(`skipped ${s.model}: ${s.reason}\n`);
        process.stderr.write(
          `Populated ${result.rows} rows of ${result.models.length} models: ${store.location}\n`,
        );
      } finally {
        await store.close();
      }
    });
  return cmd;
}
