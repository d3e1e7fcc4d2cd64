/**
 * `relo events tail`: prints event stream messages as JSON lines on stdout, from the embedded
 * table or from Redis Streams.
 */
import { Command, Option } from "@commander-js/extra-typings";
import { UsageError } from "../backup/errors.js";
import { parseRedisStreamUrl } from "../events/redis.js";
import { TOPICS } from "../events/stream.js";
import { type TailedMessage, type TailOptions, tailRedis, tailTable } from "../events/tail.js";
import { openStore, resolveDatabaseUrl } from "../store/open.js";
import { DB_HELP } from "./args.js";

function topics(value: string): string[] {
  const list = value.split(",").filter(Boolean);
  const bad = list.filter((t) => !(TOPICS as string[]).includes(t));
  if (bad.length > 0 || list.length === 0) {
    throw new UsageError(`--topic: expected some of ${TOPICS.join(", ")}, got ${JSON.stringify(value)}`);
  }
  return list;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--limit: not a positive integer: ${value}`);
  return n;
}

async function write(m: TailedMessage) {
  const line = `${JSON.stringify(m)}\n`;
  if (!process.stdout.write(line)) await new Promise((r) => process.stdout.once("drain", r));
}

export function eventsCommand(): Command {
  const cmd = new Command("events").description("Read the event stream.");
  cmd
    .command("tail")
    .description("Print event stream messages as JSON lines (topic, offset, key, headers, value).")
    .option("--db <url>", DB_HELP)
    .option(
      "--eventstream <url>",
      "read from Redis Streams (the URL relo serve publishes to) instead of the database",
    )
    .addOption(
      new Option("--topic <list>", `topics, comma-separated (${TOPICS.join(", ")})`).default(
        "events,transactions",
      ),
    )
    .option(
      "--group <name>",
      "consumer group: resume after its last message and record progress (Redis default: relo)",
    )
    .option("--consumer <name>", "consumer name within the group (Redis only)")
    .option("-f, --follow", "keep waiting for new messages until interrupted")
    .option("--limit <n>", "stop after this many messages")
    .action(async (o) => {
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      const opts: TailOptions = {
        topics: topics(o.topic),
        group: o.group,
        follow: !!o.follow,
        limit: o.limit === undefined ? undefined : positive(o.limit),
        signal: controller.signal,
      };
      try {
        if (o.eventstream) {
          await tailRedis(parseRedisStreamUrl(o.eventstream), { ...opts, consumer: o.consumer }, write);
          return;
        }
        if (o.consumer) throw new UsageError("--consumer applies to --eventstream (Redis) only");
        const store = await openStore(resolveDatabaseUrl(o.db));
        try {
          await tailTable(store, opts, write);
        } finally {
          await store.close();
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
    });
  return cmd;
}
