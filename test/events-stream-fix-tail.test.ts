/**
 * `relo events tail` edge cases: a Redis consumer resuming with pending entries that were trimmed
 * away, `--limit` over several Redis streams (two runs print every message once, in order), and
 * a consumer group name too long for the offsets table (a usage error, on both databases).
 */
import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseRedisStreamUrl } from "../src/events/redis.js";
import { tailRedis } from "../src/events/tail.js";
import type { Store } from "../src/store/types.js";
import { cli } from "./helpers/cli.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  dropPrefix,
  errorEvent,
  eventId,
  HAS_REDIS,
  importProjects,
  newIngest,
  REDIS_URL,
  save,
  uniquePrefix,
} from "./helpers/events.js";

function lines(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe.runIf(HAS_REDIS)("events tail --eventstream", () => {
  let prefix: string;
  let redis: Redis;
  beforeEach(() => {
    prefix = uniquePrefix();
    redis = new Redis(REDIS_URL);
  });
  afterEach(async () => {
    redis.disconnect();
    await dropPrefix(prefix);
  });
  const url = () => `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`;

  async function add(topic: string, offset: number, value: unknown): Promise<void> {
    await redis.xadd(
      `${prefix}${topic}`,
      "*",
      "key",
      "1",
      "value",
      JSON.stringify(value),
      "headers",
      "{}",
      "offset",
      String(offset),
    );
  }

  it("acknowledges and skips a pending entry trimmed from the stream, and goes on", async () => {
    const key = `${prefix}events`;
    await redis.xgroup("CREATE", key, "g", "0", "MKSTREAM");
    await add("events", 1, { n: 1 });
    // Delivered to w1, never acknowledged, then trimmed away (as XADD MAXLEN ~ does).
    await redis.xreadgroup("GROUP", "g", "w1", "COUNT", 10, "STREAMS", key, ">");
    await redis.xtrim(key, "MAXLEN", 0);
    await add("events", 2, { n: 2 });
    const seen: unknown[] = [];
    const cfg = parseRedisStreamUrl(url());
    const n = await tailRedis(cfg, { topics: ["events"], group: "g", consumer: "w1" }, (m) => {
      seen.push(m.value);
    });
    expect(n).toBe(1);
    expect(seen).toEqual([{ n: 2 }]);
    expect(((await redis.xpending(key, "g")) as unknown[])[0]).toBe(0);
  });

  it("--limit over several topics: runs print every message once, in offset order", async () => {
    for (const t of ["events", "outcomes"])
      await redis.xgroup("CREATE", `${prefix}${t}`, "g", "0", "MKSTREAM");
    for (let i = 1; i <= 3; i++) {
      await add("events", 2 * i - 1, { e: i });
      await add("outcomes", 2 * i, { o: i });
    }
    const tail = (...extra: string[]) =>
      cli(["events", "tail", "--eventstream", url(), "--group", "g", "--topic", "events,outcomes", ...extra]);
    const first = await tail("--limit", "3");
    const second = await tail("--limit", "2");
    const third = await tail();
    for (const r of [first, second, third]) expect(r.code).toBe(0);
    expect(lines(first.stdout).map((m) => m.offset)).toEqual([1, 2, 3]);
    expect(lines(second.stdout).map((m) => m.offset)).toEqual([4, 5]);
    expect(lines(third.stdout).map((m) => m.offset)).toEqual([6]);
    for (const t of ["events", "outcomes"]) {
      expect(((await redis.xpending(`${prefix}${t}`, "g")) as unknown[])[0]).toBe(0);
    }
  });

  it("--limit: what one consumer read but did not print goes, in order, to the next run of another", async () => {
    for (const t of ["events", "outcomes"])
      await redis.xgroup("CREATE", `${prefix}${t}`, "g", "0", "MKSTREAM");
    for (let i = 1; i <= 3; i++) {
      await add("events", 2 * i - 1, { e: i });
      await add("outcomes", 2 * i, { o: i });
    }
    const tail = (...extra: string[]) =>
      cli(["events", "tail", "--eventstream", url(), "--group", "g", "--topic", "events,outcomes", ...extra]);
    const first = await tail("--consumer", "a", "--limit", "2");
    await add("events", 7, { e: 4 });
    const second = await tail("--consumer", "b");
    expect(lines(first.stdout).map((m) => m.offset)).toEqual([1, 2]);
    expect(lines(second.stdout).map((m) => m.offset)).toEqual([3, 4, 5, 6, 7]);
  });

  it("refuses a group name longer than the database's before reading", async () => {
    const r = await cli(["events", "tail", "--eventstream", url(), "--group", "g".repeat(201)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("relo: error: --group: at most 200 characters, got 201");
  });
});

describeEachDb("events tail --group validation", (kind) => {
  let store: Store;
  let db: TestDb;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    const [key] = await importProjects(store);
    const ingest = newIngest(store);
    await save(ingest, key, errorEvent({ event_id: eventId(1) }));
    await ingest.close();
  });

  it("a name over 200 characters is a usage error before anything is printed", async () => {
    const long = await cli(["events", "tail", "--db", db.url, "--group", "x".repeat(250)]);
    expect(long).toMatchObject({ code: 1, stdout: "" });
    expect(long.stderr).toContain("relo: error: --group: at most 200 characters, got 250");
    const empty = await cli(["events", "tail", "--db", db.url, "--group", ""]);
    expect(empty).toMatchObject({ code: 1, stdout: "" });
    expect(empty.stderr).toContain("relo: error: --group: the name is empty");
    // 200 characters (counted as characters, not bytes) is a valid name.
    const longest = await cli(["events", "tail", "--db", db.url, "--group", "é".repeat(200)]);
    expect(longest.code).toBe(0);
    expect(lines(longest.stdout).map((m) => m.value[2].event_id)).toEqual([eventId(1)]);
  });
});
