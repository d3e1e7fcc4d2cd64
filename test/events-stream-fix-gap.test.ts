/**
 * Two writers (two `relo serve`) on one PostgreSQL database and `relo events tail --group`: a
 * message must never commit with a lower offset than one a group has already read, or the group
 * skips it for good. Writer A is held inside its transaction (after its stream insert) by a row
 * lock on one of its counters while writer B saves; the group reads in between and after.
 * On SQLite the database's write lock serializes writers, so there is no such interleaving.
 */
import pg from "pg";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Ingest } from "../src/events/ingest.js";
import { Sql } from "../src/events/sql.js";
import { tailTable } from "../src/events/tail.js";
import { openStore } from "../src/store/open.js";
import type { Store } from "../src/store/types.js";
import { DB_KINDS, PG_URL, type TestDb, useFreshStore } from "./helpers/db.js";
import { eventId, importProjects, newIngest, type ProjectKey, save } from "./helpers/events.js";

/** Event ids the group reads now (events topic), committing its offsets. */
async function tailGroup(store: Store, group: string): Promise<string[]> {
  const ids: string[] = [];
  await tailTable(store, { topics: ["events"], group }, (m) => {
    ids.push((m.value as any)[2].event_id);
  });
  return ids;
}

/** Waits until the backend waits on a lock, or `done` settles first; says which. */
async function blockedOrDone(store: Store, pid: number, done: Promise<unknown>): Promise<"blocked" | "done"> {
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  const sql = new Sql(store);
  for (let i = 0; i < 200; i++) {
    if (finished) return "done";
    const row = await sql.one<{ w: string | null }>(
      "SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = ?",
      [pid],
    );
    if (row?.w === "Lock") return "blocked";
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`backend ${pid} neither blocked nor finished`);
}

// PostgreSQL only: SQLite's write lock already serializes writers (see above).
const POSTGRES = DB_KINDS.filter((k) => k === "postgres");

for (const kind of POSTGRES)
  describe(`event stream offsets with two writers [${kind}]`, () => {
    let db: TestDb;
    let store: Store;
    let key: ProjectKey;
    const opened: Store[] = [];
    const ingests: Ingest[] = [];
    let blocker: pg.Client | null = null;
    useFreshStore(kind, (s, d) => {
      store = s;
      db = d;
    });
    beforeEach(async () => {
      [key] = await importProjects(store);
    });
    afterEach(async () => {
      await blocker?.query("ROLLBACK").catch(() => {});
      await blocker?.end();
      blocker = null;
      for (const i of ingests.splice(0)) await i.close();
      for (const s of opened.splice(0)) await s.close();
    });

    async function open(): Promise<Store> {
      const s = await openStore(db.url, { migrate: false });
      opened.push(s);
      return s;
    }

    it("a consumer group never skips a message committed after a higher offset was written", async () => {
      const [storeA, storeB, reader] = [await open(), await open(), await open()];
      const a = newIngest(storeA);
      const b = newIngest(storeB);
      ingests.push(a, b);
      // A's events are an hour old with a release, so A alone needs that release's counter row.
      const old = Math.floor(Date.now() / 1000) - 3600;
      const fromA = (n: number) => ({
        event_id: eventId(n),
        message: "from A",
        release: "slow@1",
        timestamp: old,
      });
      const fromB = (n: number) => ({ event_id: eventId(n), message: "from B" });
      await save(a, key, fromA(1));
      await save(b, key, fromB(2));
      expect(await tailGroup(reader, "g")).toEqual([eventId(1), eventId(2)]);

      blocker = new pg.Client({ connectionString: PG_URL });
      await blocker.connect();
      await blocker.query(`SET search_path TO "${new URL(db.url).searchParams.get("schema")}"`);
      await blocker.query("BEGIN");
      await blocker.query(
        "SELECT id FROM relo_tsdb_counter WHERE model = 'release' AND key_id = (SELECT id FROM sentry_release WHERE version = 'slow@1') FOR UPDATE",
      );
      const pidOf = async (s: Store) =>
        Number((await new Sql(s).one<{ pid: unknown }>("SELECT pg_backend_pid() AS pid"))!.pid);
      const [pidA, pidB] = [await pidOf(storeA), await pidOf(storeB)];

      const savingA = save(a, key, fromA(3));
      expect(await blockedOrDone(reader, pidA, savingA)).toBe("blocked");
      const savingB = save(b, key, fromB(4));
      await blockedOrDone(reader, pidB, savingB);
      const during = await tailGroup(reader, "g");
      await blocker.query("COMMIT");
      expect((await savingA).status).toBe("saved");
      expect((await savingB).status).toBe("saved");
      const after = await tailGroup(reader, "g");
      expect([...during, ...after].sort()).toEqual([eventId(3), eventId(4)]);
    }, 30_000);

    it("two writers saving at once: the group reads every message exactly once", async () => {
      const [storeA, storeB, reader] = [await open(), await open(), await open()];
      const a = newIngest(storeA, { maxBatch: 5 });
      const b = newIngest(storeB, { maxBatch: 5 });
      ingests.push(a, b);
      const seen: string[] = [];
      let stop = false;
      const tailing = (async () => {
        while (!stop) seen.push(...(await tailGroup(reader, "race")));
      })();
      const n = 200;
      const outcomes = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          save(i % 2 ? a : b, key, { event_id: eventId(i + 1), message: `m${i % 7}` }),
        ),
      );
      expect(
        outcomes
          .filter((o) => o.status !== "saved")
          .map((o) => `${(o as any).error?.message} ${(o as any).error?.detail}`),
      ).toEqual([]);
      stop = true;
      await tailing;
      seen.push(...(await tailGroup(reader, "race")));
      expect(seen.length).toBe(n);
      expect(new Set(seen).size).toBe(n);
    }, 60_000);
  });
