/**
 * `relo dsn --org SLUG --project SLUG`: the DSNs of a project, one per line on stdout, so SDKs
 * can be pointed at `relo serve` after an import.
 */
import { Command } from "@commander-js/extra-typings";
import { ReloError } from "../backup/errors.js";
import { DEFAULT_BASE_URL, projectDsns } from "../events/dsn.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP } from "./args.js";

export function dsnCommand(): Command {
  return new Command("dsn")
    .description("Print the DSNs of a project (its active keys), one per line.")
    .requiredOption("--org <slug>", "organization slug")
    .requiredOption("--project <slug>", "project slug")
    .option("--db <url>", DB_HELP)
    .option("--url <url>", "the address SDKs reach relo serve at", DEFAULT_BASE_URL)
    .option("--secret", "print the legacy form with the secret key")
    .option("--all", "also print disabled keys (marked on stderr)")
    .action(async (o) => {
      const store = await openStore(resolveDatabaseUrl(o.db));
      try {
        const dsns = await projectDsns(store, o.org, o.project, o.url);
        const shown = o.all ? dsns : dsns.filter((d) => d.active);
        if (shown.length === 0) {
          throw new ReloError(`project ${o.org}/${o.project} has no active DSN keys`);
        }
        for (const d of shown) {
          if (!d.active) process.stderr.write(`disabled key ${d.keyId}:\n`);
          process.stdout.write(`${o.secret ? d.secretDsn : d.dsn}\n`);
        }
        const hidden = dsns.length - shown.length;
        if (hidden > 0) process.stderr.write(`${hidden} disabled key(s) not shown (--all shows them)\n`);
      } finally {
        await store.close();
      }
    });
}
