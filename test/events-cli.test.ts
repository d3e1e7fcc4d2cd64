/**
 * The event commands as a user runs them, on both databases: `relo dsn`, `relo events tail`
 * (embedded stream, consumer-group offsets) and a `relo serve` process taking an SDK envelope
 * and stopping cleanly on SIGTERM.
 */
import { type ChildProcess, spawn } from "node:child_process";
import http from "node:http";
import { resolve } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { serializeEnvelope } from "../src/events/envelope.js";
import type { Ingest } from "../src/events/ingest.js";
import { Sql } from "../src/events/sql.js";
import type { Store } from "../src/store/types.js";
import { cli } from "./helpers/cli.js";
import { describeEachDb, type TestDb, useFreshStore } from "./helpers/db.js";
import {
  errorEvent,
  eventId,
  importProjects,
  newIngest,
  type ProjectKey,
  payload,
  save,
} from "./helpers/events.js";

const ROOT = resolve(import.meta.dirname, "..");

function lines(stdout: string): any[] {
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describeEachDb("event commands", (kind) => {
  let store: Store;
  let db: TestDb;
  let key: ProjectKey;
  let ingest: Ingest | null = null;
  let child: ChildProcess | null = null;
  useFreshStore(kind, (s, d) => {
    store = s;
    db = d;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
  });
  afterEach(async () => {
    await ingest?.close();
    ingest = null;
    if (child && child.exitCode === null) child.kill("SIGKILL");
    child = null;
  });

  it("relo dsn prints the project's DSNs for the address relo serve answers on", async () => {
    const ok = await cli(["dsn", "--org", "testing", "--project", "internal", "--db", db.url]);
    expect(ok).toMatchObject({
      code: 0,
      stdout: `http://${key.publicKey}@127.0.0.1:9000/${key.projectId}\n`,
    });
    const secret = await cli([
      "dsn",
      "--org",
      "testing",
      "--project",
      "internal",
      "--db",
      db.url,
      "--url",
      "https://ingest.example.com/relo/",
      "--secret",
    ]);
    expect(secret.stdout).toBe(
      `https://${key.publicKey}:${key.secretKey}@ingest.example.com/relo/${key.projectId}\n`,
    );
    const noOrg = await cli(["dsn", "--org", "nope", "--project", "internal", "--db", db.url]);
    expect(noOrg.code).toBe(1);
    expect(noOrg.stderr).toContain('relo: error: no organization with slug "nope"');
    expect(noOrg.stdout).toBe("");
    await new Sql(store).run("UPDATE sentry_projectkey SET status = 1");
    const disabled = await cli(["dsn", "--org", "testing", "--project", "internal", "--db", db.url]);
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toContain("relo: error: project testing/internal has no active DSN keys");
    const all = await cli(["dsn", "--org", "testing", "--project", "internal", "--db", db.url, "--all"]);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split("\n")).toHaveLength(1);
    expect(all.stderr).toContain(`disabled key ${key.keyId}`);
  });

  it("relo events tail prints messages as JSON lines and resumes a consumer group after its last message", async () => {
    ingest = newIngest(store);
    for (let i = 1; i <= 3; i++) await save(ingest, key, errorEvent({ event_id: eventId(i) }));
    const all = await cli(["events", "tail", "--db", db.url]);
    expect(all.code).toBe(0);
    const msgs = lines(all.stdout);
    expect(msgs.map((m) => [m.topic, m.value[2].event_id])).toEqual([
      ["events", eventId(1)],
      ["events", eventId(2)],
      ["events", eventId(3)],
    ]);
    expect(msgs[0]).toMatchObject({ key: String(key.projectId), headers: { operation: "insert" } });
    expect(msgs.map((m) => m.offset)).toEqual([1, 3, 5]);
    const first = await cli(["events", "tail", "--db", db.url, "--group", "g", "--limit", "2"]);
    expect(lines(first.stdout).map((m) => m.offset)).toEqual([1, 3]);
    const second = await cli([
      "events",
      "tail",
      "--db",
      db.url,
      "--group",
      "g",
      "--topic",
      "events,outcomes",
    ]);
    expect(lines(second.stdout).map((m) => [m.topic, m.offset])).toEqual(
      [
        ["outcomes", 2],
        ["events", 5],
        ["outcomes", 4],
        ["outcomes", 6],
      ].sort((a, b) => (a[1] as number) - (b[1] as number)),
    );
    await save(ingest, key, errorEvent({ event_id: eventId(4) }));
    const third = await cli(["events", "tail", "--db", db.url, "--group", "g"]);
    expect(lines(third.stdout).map((m) => m.value[2].event_id)).toEqual([eventId(4)]);
    const offsets = await new Sql(store).all<Record<string, unknown>>(
      "SELECT topic, committed_offset FROM relo_eventstream_offset WHERE consumer_group = 'g' ORDER BY topic",
    );
    expect(offsets.map((o) => [o.topic, Number(o.committed_offset)])).toEqual([
      ["events", 7],
      ["outcomes", 6],
    ]);
    const bad = await cli(["events", "tail", "--db", db.url, "--topic", "spans"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("--topic: expected some of events, transactions, outcomes");
  });

  it("relo serve takes an envelope, answers with its id, and stops cleanly on SIGTERM", async () => {
    child = spawn(
      process.execPath,
      ["--import", "tsx", "src/cli/bin.ts", "serve", "--db", db.url, "--port", "0"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let stderr = "";
    const listening = new Promise<string>((done, fail) => {
      child!.stderr!.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        const line = stderr.split("\n").find((l) => l.includes("relo serve listening"));
        if (line) done(JSON.parse(line).url);
      });
      child!.on("exit", () => fail(new Error(`relo serve exited: ${stderr}`)));
    });
    const url = await listening;
    const body = serializeEnvelope({ event_id: eventId(77) }, [
      { header: { type: "event" }, payload: errorEvent({ event_id: eventId(77) }) },
    ]);
    const res = await new Promise<{ status: number; body: string }>((done, fail) => {
      const req = http.request(
        `${url}/api/${key.projectId}/envelope/?sentry_key=${key.publicKey}`,
        { method: "POST" },
        (r) => {
          let text = "";
          r.setEncoding("utf8").on("data", (d) => (text += d));
          r.on("end", () => done({ status: r.statusCode!, body: text }));
        },
      );
      req.on("error", fail);
      req.end(body);
    });
    expect(res).toEqual({ status: 200, body: JSON.stringify({ id: eventId(77) }) });
    const exited = new Promise<number | null>((done) => child!.on("exit", (code) => done(code)));
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stderr).toContain("stopping: saving accepted events");
    expect(await payload(store, key.projectId, eventId(77))).not.toBeNull();
  });
});
