/**
 * The official @sentry/node SDK pointed at `relo serve`, with the DSN `relo dsn` prints for a key
 * imported from fresh-install.json: two captureException calls with the same error, one
 * captureMessage and one transaction, on SQLite and PostgreSQL, with the embedded event stream
 * and with Redis Streams.
 */
import * as Sentry from "@sentry/node";
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it } from "vitest";
import { projectDsns } from "../src/events/dsn.js";
import { parseRedisStreamUrl } from "../src/events/redis.js";
import { type RunningServer, startServer } from "../src/events/serve.js";
import { tailRedis } from "../src/events/tail.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  dropPrefix,
  HAS_REDIS,
  importProjects,
  messages,
  type ProjectKey,
  payload,
  REDIS_URL,
  uniquePrefix,
} from "./helpers/events.js";
import { rows } from "./helpers/import.js";

const STREAMS = HAS_REDIS ? (["embedded", "redis"] as const) : (["embedded"] as const);

/** What an application does: two identical failures, a warning message and one traced request. */
async function runApp(dsn: string) {
  Sentry.init({
    dsn,
    defaultIntegrations: false,
    tracesSampleRate: 1,
    traceLifecycle: "static",
    release: "shop@2.4.0",
    dist: "build7",
    environment: "production",
  });
  Sentry.setUser({ id: "u-1", email: "ann@example.com" });
  Sentry.setTag("region", "eu");
  function addToCart(quantity: number) {
    if (quantity > 10) throw new RangeError("quantity out of range");
  }
  for (let i = 0; i < 2; i++) {
    try {
      addToCart(99);
    } catch (err) {
      Sentry.captureException(err);
    }
  }
  Sentry.captureMessage("cart abandoned", "warning");
  Sentry.startSpan({ name: "POST /checkout", op: "http.server" }, () => {
    Sentry.startSpan({ name: "charge card", op: "http.client" }, () => {});
  });
  expect(await Sentry.flush(10_000)).toBe(true);
  await Sentry.close(10_000);
}

describeEachDb("@sentry/node against relo serve", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let server: RunningServer | null = null;
  let prefix: string;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
    prefix = uniquePrefix();
  });
  afterEach(async () => {
    await server?.close();
    server = null;
    if (HAS_REDIS) await dropPrefix(prefix);
  });

  for (const via of STREAMS) {
    it(`saves the SDK's exceptions, message and transaction, and streams them [${via}]`, async () => {
      const eventstream =
        via === "redis" ? `${REDIS_URL}?prefix=${encodeURIComponent(prefix)}&group=snuba` : undefined;
      server = await startServer({ db: db.url, port: 0, eventstream });
      const [dsn] = await projectDsns(store, "testing", "internal", server.url);
      expect(dsn.dsn).toBe(`http://${key.publicKey}@127.0.0.1:${server.port}/${key.projectId}`);
      await runApp(dsn.dsn);
      await server.ingest.idle();

      // Issues: one for the two identical exceptions, one for the message.
      const groups = await rows(store, "sentry_groupedmessage");
      expect(groups).toHaveLength(2);
      const [exc, msg] = groups;
      expect(Number(exc.times_seen)).toBe(2);
      expect(Number(exc.level)).toBe(40);
      expect(JSON.parse(exc.data).title).toBe("RangeError: quantity out of range");
      expect(exc.view).toBe("addToCart(serve-sdk.test.ts)");
      expect(Number(exc.short_id)).toBe(1);
      expect(Number(msg.times_seen)).toBe(1);
      expect(Number(msg.level)).toBe(30);
      expect(JSON.parse(msg.data).title).toBe("cart abandoned");
      expect(Number(msg.short_id)).toBe(2);
      expect(groups.every((g) => Number(g.first_release_id) > 0)).toBe(true);

      // Environment, release, dist.
      expect((await rows(store, "sentry_environment")).map((e) => e.name)).toEqual(["production"]);
      const [release] = await rows(store, "sentry_release");
      expect(release).toMatchObject({ version: "shop@2.4.0", package: "shop" });
      expect((await rows(store, "sentry_distribution")).map((d) => d.name)).toEqual(["build7"]);
      expect(await rows(store, "sentry_grouprelease")).toHaveLength(2);
      const [project] = await rows(store, "sentry_project");
      expect(project.first_event).not.toBeNull();

      // Stored payloads and their tags.
      const nodes = await rows(store, "nodestore_node");
      expect(nodes).toHaveLength(4);
      const inserts = await streamInserts(via);
      expect(inserts.events).toHaveLength(3);
      expect(inserts.transactions).toHaveLength(1);
      for (const m of [...inserts.events, ...inserts.transactions]) {
        const stored = (await payload(store, key.projectId, m.value[2].event_id))!;
        expect(stored.event_id).toBe(m.value[2].event_id);
        const tags = Object.fromEntries(stored.tags);
        expect(tags).toMatchObject({
          environment: "production",
          "sentry:release": "shop@2.4.0",
          "sentry:dist": "build7",
          "sentry:user": "id:u-1",
          region: "eu",
        });
        expect(tags.release).toBeUndefined();
        expect(m.key).toBe(String(key.projectId));
      }
      expect(inserts.events.map((m) => [m.value[3].is_new, m.value[2].group_id])).toEqual([
        [true, Number(exc.id)],
        [false, Number(exc.id)],
        [true, Number(msg.id)],
      ]);
      const [txn] = inserts.transactions;
      expect(txn.value[2].data).toMatchObject({
        type: "transaction",
        transaction: "POST /checkout",
        level: "info",
      });
      expect(txn.value[2].data.spans).toHaveLength(1);
      expect(txn.value[3]).toMatchObject({ is_new: false, group_states: null });
    });
  }

  async function streamInserts(via: string) {
    if (via === "embedded") {
      return { events: await messages(store, "events"), transactions: await messages(store, "transactions") };
    }
    // Through Redis: the stream holds the messages, the group delivers them, the outbox is drained.
    const redis = new Redis(REDIS_URL);
    try {
      const groups = (await redis.xinfo("GROUPS", `${prefix}events`)) as unknown[][];
      expect(groups.map((g) => g[1])).toEqual(["snuba"]);
      expect(await redis.xlen(`${prefix}outcomes`)).toBe(4);
    } finally {
      redis.disconnect();
    }
    expect(await rows(store, "relo_eventstream")).toHaveLength(1);
    const cfg = parseRedisStreamUrl(`${REDIS_URL}?prefix=${encodeURIComponent(prefix)}`);
    const got: any[] = [];
    const n = await tailRedis(cfg, { topics: ["events", "transactions"], group: "snuba" }, (m) => {
      got.push(m);
    });
    expect(n).toBe(4);
    return {
      events: got.filter((m) => m.topic === "events"),
      transactions: got.filter((m) => m.topic === "transactions"),
    };
  }
});
