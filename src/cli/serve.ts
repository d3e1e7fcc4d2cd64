/**
 * `relo serve`: the ingestion endpoints for Sentry SDKs, saving into the database and publishing
 * the event stream. Logs (JSON lines) go to stderr; it stops cleanly on SIGINT or SIGTERM after
 * saving what it has accepted.
 */
import { Command, Option } from "@commander-js/extra-typings";
import pino from "pino";
import { UsageError } from "../backup/errors.js";
import { startServer } from "../events/serve.js";
import { resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP } from "./args.js";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--port: not a port number: ${value}`);
  return n;
}

export function serveCommand(): Command {
  return new Command("serve")
    .description("Accept events from Sentry SDKs (envelope and store endpoints) and save them.")
    .option("--db <url>", DB_HELP)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--port <port>", "port to listen on", "9000")
    .option(
      "--eventstream <url>",
      "also publish the event stream to Redis Streams (redis://host:port[/db]?prefix=relo:&maxlen=100000&group=NAME); without it the stream stays in the database",
    )
    .addOption(
      new Option("--log-level <level>", "log level on stderr")
        .choices(["fatal", "error", "warn", "info", "debug"] as const)
        .default("info" as const),
    )
    .action(async (o) => {
      const log = pino({ level: o.logLevel }, pino.destination(2));
      const server = await startServer({
        db: resolveDatabaseUrl(o.db),
        host: o.host,
        port: port(o.port),
        eventstream: o.eventstream,
        log,
      });
      log.info(
        { url: server.url, db: server.store.location, eventstream: o.eventstream ?? "embedded" },
        "relo serve listening",
      );
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          log.info("stopping: saving accepted events");
          resolve();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await server.close();
    });
}
