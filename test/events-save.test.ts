/**
 * The save path (spec part 2, §2.4-2.6) on both databases, through the real writer: each test
 * named "#N" is item N of the part 2 conformance checklist.
 */
import { resolve } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { type Ingest, QueueFull } from "../src/events/ingest.js";
import { normalizeEvent } from "../src/events/normalize.js";
import { Sql } from "../src/events/sql.js";
import { tsdbSeries, tsdbTotal } from "../src/events/tsdb.js";
import { GroupStatus, GroupSubStatus } from "../src/models/events.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import {
  errorEvent,
  eventId,
  importProjects,
  messages,
  newIngest,
  type ProjectKey,
  payload,
  save,
} from "./helpers/events.js";
import { count, rows } from "./helpers/import.js";

const NOW = Math.floor(Date.now() / 1000) - 600;
const iso = (s: number) => new Date(s * 1000).toISOString();

function transactionEvent(extra: Record<string, unknown> = {}) {
  return {
    type: "transaction",
    transaction: "GET /items",
    start_timestamp: NOW - 1,
    timestamp: NOW,
    contexts: { trace: { trace_id: "a".repeat(32), span_id: "b".repeat(16), op: "http.server" } },
    spans: [],
    ...extra,
  };
}

describeEachDb("event save", (kind) => {
  let store: Store;
  let ingest: Ingest;
  let key: ProjectKey;
  useFreshStore(kind, (s) => {
    store = s;
  });
  beforeEach(async () => {
    [key] = await importProjects(store);
    ingest = newIngest(store);
  });
  afterEach(async () => {
    await ingest.close();
  });

  const group = async (id: number) =>
    (await rows(store, "sentry_groupedmessage")).find((g) => Number(g.id) === id)!;
  const saved = async (raw: Record<string, unknown>, o = {}) => {
    const outcome = await save(ingest, key, raw, o);
    if (outcome.status !== "saved") throw new Error(`not saved: ${JSON.stringify(outcome)}`);
    return outcome.result;
  };

  it("#5 an error event matching no GroupHash creates one issue: times_seen 1, first_seen = last_seen = event time, next short_id, is_new", async () => {
    const r = await saved(errorEvent({ event_id: eventId(1), timestamp: NOW, level: "warning" }));
    expect(r.isNew).toBe(true);
    const g = await group(r.groupId!);
    expect(Number(g.times_seen)).toBe(1);
    expect(new Date(g.first_seen).toISOString()).toBe(iso(NOW));
    expect(new Date(g.last_seen).toISOString()).toBe(iso(NOW));
    expect(new Date(g.active_at).toISOString()).toBe(iso(NOW));
    expect(Number(g.short_id)).toBe(1);
    expect(Number(g.project_id)).toBe(key.projectId);
    expect(Number(g.status)).toBe(GroupStatus.UNRESOLVED);
    expect(Number(g.substatus)).toBe(GroupSubStatus.NEW);
    expect(Number(g.level)).toBe(30);
    expect(Number(g.priority)).toBe(50);
    expect(g.view).toBe("app.views in handle");
    const data = JSON.parse(g.data);
    expect(data.title).toBe("ValueError: bad input");
    expect(data.metadata).toMatchObject({
      type: "ValueError",
      value: "bad input",
      function: "handle",
      initial_priority: 50,
    });
    expect(await count(store, "sentry_grouphash")).toBe(1);
    const [msg] = await messages(store, "events");
    expect(msg.value[3].is_new).toBe(true);
    expect(msg.headers.is_new).toBe("1");
    const second = await saved(errorEvent({ timestamp: NOW }, "KeyError"));
    expect(Number((await group(second.groupId!)).short_id)).toBe(2);
  });

  it("#6 a second event with the same fingerprint adds to the issue: is_new false, times_seen + 1", async () => {
    const a = await saved({ message: "one", fingerprint: ["checkout-failed"], timestamp: NOW });
    const b = await saved({ message: "two", fingerprint: ["checkout-failed"], timestamp: NOW });
    expect(b.groupId).toBe(a.groupId);
    expect(b.isNew).toBe(false);
    expect(await count(store, "sentry_groupedmessage")).toBe(1);
    expect(Number((await group(a.groupId!)).times_seen)).toBe(2);
    const states = (await messages(store, "events")).map((m) => m.value[3].is_new);
    expect(states).toEqual([true, false]);
  });

  it("#7 an older event lowers first_seen, a newer one raises last_seen, and last_seen never goes back", async () => {
    const { groupId } = await saved(errorEvent({ timestamp: NOW }));
    await saved(errorEvent({ timestamp: NOW - 100 }));
    let g = await group(groupId!);
    expect(new Date(g.first_seen).toISOString()).toBe(iso(NOW - 100));
    expect(new Date(g.last_seen).toISOString()).toBe(iso(NOW));
    await saved(errorEvent({ timestamp: NOW + 50 }));
    await saved(errorEvent({ timestamp: NOW + 10 }));
    g = await group(groupId!);
    expect(new Date(g.last_seen).toISOString()).toBe(iso(NOW + 50));
    expect(new Date(g.first_seen).toISOString()).toBe(iso(NOW - 100));
    expect(Number(g.times_seen)).toBe(4);
  });

  it("#8 an event for a RESOLVED issue regresses it (UNRESOLVED, REGRESSED, is_regression, one SET_REGRESSION activity); a second within 5 s does not", async () => {
    const { groupId } = await saved(errorEvent({ timestamp: NOW - 60, release: "app@1.0.0" }));
    const sql = new Sql(store);
    await sql.run(
      "UPDATE sentry_groupedmessage SET status = ?, substatus = NULL, resolved_at = ? WHERE id = ?",
      [GroupStatus.RESOLVED, iso(NOW - 30), groupId],
    );
    const r = await saved(errorEvent({ event_id: eventId(8), timestamp: NOW, release: "app@1.0.1" }));
    expect(r.isRegression).toBe(true);
    expect(r.groupId).toBe(groupId);
    let g = await group(groupId!);
    expect(Number(g.status)).toBe(GroupStatus.UNRESOLVED);
    expect(Number(g.substatus)).toBe(GroupSubStatus.REGRESSED);
    expect(new Date(g.active_at).toISOString()).toBe(iso(NOW));
    const msgs = await messages(store, "events");
    expect(msgs[1].value[3].is_regression).toBe(true);
    expect(msgs[1].headers.is_regression).toBe("1");
    const acts = await rows(store, "sentry_activity");
    expect(acts).toHaveLength(1);
    expect(Number(acts[0].type)).toBe(6);
    expect(JSON.parse(acts[0].data)).toEqual({ version: "app@1.0.1", event_id: eventId(8) });
    // Resolved again, and two events arrive within the 5-second window of the last activation.
    await sql.run("UPDATE sentry_groupedmessage SET status = ? WHERE id = ?", [
      GroupStatus.RESOLVED,
      groupId,
    ]);
    const again = await saved(errorEvent({ timestamp: NOW + 2 }));
    expect(again.isRegression).toBe(false);
    expect(await count(store, "sentry_activity")).toBe(1);
    g = await group(groupId!);
    expect(Number(g.times_seen)).toBe(3);
  });

  it("#8 a resolution in a newer release holds the regression back; the release it names lets it through", async () => {
    const { groupId } = await saved(errorEvent({ timestamp: NOW - 60, release: "app@1.0.0" }));
    await saved(errorEvent({ timestamp: NOW - 50, release: "app@2.0.0" }));
    const sql = new Sql(store);
    const releases = await rows(store, "sentry_release");
    const v2 = releases.find((r) => r.version === "app@2.0.0")!;
    await sql.run("UPDATE sentry_release SET date_added = ? WHERE id = ?", [iso(NOW + 1000), v2.id]);
    await sql.run("UPDATE sentry_groupedmessage SET status = ? WHERE id = ?", [
      GroupStatus.RESOLVED,
      groupId,
    ]);
    await sql.run(
      "INSERT INTO sentry_groupresolution (group_id, release_id, type, datetime, status) VALUES (?, ?, 0, ?, 0)",
      [groupId, v2.id, iso(NOW)],
    );
    // An event from the older release: the issue is resolved in a later release, so no regression.
    const old = await saved(errorEvent({ timestamp: NOW, release: "app@1.0.0" }));
    expect(old.isRegression).toBe(false);
    expect(Number((await group(groupId!)).status)).toBe(GroupStatus.RESOLVED);
    // An event from the release it was resolved in regresses it and removes the resolution.
    const same = await saved(errorEvent({ timestamp: NOW + 30, release: "app@2.0.0" }));
    expect(same.isRegression).toBe(true);
    expect(await count(store, "sentry_groupresolution")).toBe(0);
  });

  it("#9 an event whose hash is tombstoned is discarded: no payload, no eventstream message, a FILTERED outcome", async () => {
    const first = await saved(errorEvent({ timestamp: NOW }));
    const sql = new Sql(store);
    await sql.run(
      "INSERT INTO sentry_grouptombstone (previous_group_id, project_id, level, message) VALUES (?, ?, 40, 'gone')",
      [first.groupId, key.projectId],
    );
    const tomb = await sql.one<{ id: number }>("SELECT id FROM sentry_grouptombstone");
    await sql.run("UPDATE sentry_grouphash SET group_id = NULL, group_tombstone_id = ?", [tomb!.id]);
    // A writer remembers a hash's issue for a minute; a new one (a restart) sees the tombstone.
    await ingest.close();
    ingest = newIngest(store);
    const before = await count(store, "nodestore_node");
    const outcome = await save(ingest, key, errorEvent({ event_id: eventId(9), timestamp: NOW }));
    expect(outcome).toEqual({ status: "discarded", eventId: eventId(9), reason: "discard" });
    expect(await count(store, "nodestore_node")).toBe(before);
    expect(await payload(store, key.projectId, eventId(9))).toBeNull();
    expect((await messages(store, "events")).map((m) => m.value[2].event_id)).not.toContain(eventId(9));
    const outcomes = (await messages(store, "outcomes")).map((m) => m.value);
    expect(outcomes.filter((o) => o.event_id === eventId(9))).toEqual([
      expect.objectContaining({ outcome: 1, reason: "discarded-hash", category: 1 }),
    ]);
    expect(Number((await group(first.groupId!)).times_seen)).toBe(1);
  });

  it("#10 release creates or reuses a Release; tags carry sentry:release and sentry:dist, never bare release or dist", async () => {
    const a = await saved(
      errorEvent({
        event_id: eventId(10),
        timestamp: NOW,
        release: "web@3.1.4-rc.1+77",
        dist: "d7",
        tags: { release: "x", dist: "y" },
      }),
    );
    await saved(errorEvent({ timestamp: NOW, release: "web@3.1.4-rc.1+77", dist: "d7" }));
    const releases = await rows(store, "sentry_release");
    expect(releases).toHaveLength(1);
    expect(releases[0]).toMatchObject({
      version: "web@3.1.4-rc.1+77",
      package: "web",
      prerelease: "rc.1",
      build_code: "77",
    });
    expect(
      [releases[0].major, releases[0].minor, releases[0].patch, releases[0].revision].map(Number),
    ).toEqual([3, 1, 4, 0]);
    expect(Number(releases[0].build_number)).toBe(77);
    expect(Number(releases[0].organization_id)).toBe(key.organizationId);
    expect(await count(store, "sentry_distribution")).toBe(1);
    expect(await count(store, "sentry_release_project")).toBe(1);
    const data = (await payload(store, key.projectId, a.eventId))!;
    const tags = Object.fromEntries(data.tags);
    expect(tags["sentry:release"]).toBe("web@3.1.4-rc.1+77");
    expect(tags["sentry:dist"]).toBe("d7");
    expect(tags.release).toBeUndefined();
    expect(tags.dist).toBeUndefined();
    const [p] = await rows(store, "sentry_project");
    expect(Number(p.flags) & 1).toBe(1);
  });

  it("an invalid release name is dropped with an error entry and the event is still saved", async () => {
    const r = await saved(errorEvent({ timestamp: NOW, release: "latest" }));
    expect(await count(store, "sentry_release")).toBe(0);
    const data = (await payload(store, key.projectId, r.eventId))!;
    expect(data.errors).toContainEqual({ type: "invalid_data", name: "release", value: "latest" });
  });

  it("#11 the first event in a new environment for an existing issue is_new_group_environment; the next is not", async () => {
    const a = await saved(errorEvent({ timestamp: NOW, environment: "production" }));
    const b = await saved(errorEvent({ timestamp: NOW, environment: "staging" }));
    const c = await saved(errorEvent({ timestamp: NOW, environment: "staging" }));
    expect([a.isNewGroupEnvironment, b.isNewGroupEnvironment, c.isNewGroupEnvironment]).toEqual([
      true,
      true,
      false,
    ]);
    expect(b.isNew).toBe(false);
    const flags = (await messages(store, "events")).map((m) => m.value[3].is_new_group_environment);
    expect(flags).toEqual([true, true, false]);
    expect((await rows(store, "sentry_environment")).map((e) => e.name).sort()).toEqual([
      "production",
      "staging",
    ]);
    expect(await count(store, "sentry_environmentproject")).toBe(2);
    expect(await count(store, "sentry_groupenvironment")).toBe(2);
  });

  it("#12 with a release, GroupRelease, ReleaseEnvironment and ReleaseProjectEnvironment exist; ReleaseProject.new_groups counts only new issues", async () => {
    await saved(errorEvent({ timestamp: NOW, release: "app@1", environment: "prod" }));
    await saved(errorEvent({ timestamp: NOW, release: "app@1", environment: "prod" }));
    await saved(errorEvent({ timestamp: NOW, release: "app@1", environment: "prod" }, "OtherError"));
    const [gr] = await rows(store, "sentry_grouprelease");
    expect(gr).toMatchObject({ environment: "prod" });
    expect(await count(store, "sentry_grouprelease")).toBe(2);
    expect(await count(store, "sentry_environmentrelease")).toBe(1);
    const [rpe] = await rows(store, "sentry_releaseprojectenvironment");
    expect(Number(rpe.new_issues_count)).toBe(2);
    const [rp] = await rows(store, "sentry_release_project");
    expect(Number(rp.new_groups)).toBe(2);
    const [ge] = await rows(store, "sentry_groupenvironment");
    expect(Number(ge.first_release_id)).toBe(Number((await rows(store, "sentry_release"))[0].id));
  });

  it("#13 the project counter counts every event (errors and transactions), the group counter only grouped events; both are queryable per minute", async () => {
    const a = await saved(errorEvent({ timestamp: NOW, release: "app@1" }));
    await saved(errorEvent({ timestamp: NOW + 1 }));
    await saved(transactionEvent({ release: "app@1" }));
    await saved(errorEvent({ timestamp: NOW + 120 }));
    const sql = new Sql(store);
    const range = { start: iso(NOW - 3600), end: iso(NOW + 3600) };
    expect(await tsdbTotal(sql, { model: "project", keyId: key.projectId, ...range })).toBe(4);
    expect(await tsdbTotal(sql, { model: "group", keyId: a.groupId!, ...range })).toBe(3);
    const [release] = await rows(store, "sentry_release");
    expect(await tsdbTotal(sql, { model: "release", keyId: Number(release.id), ...range })).toBe(2);
    const series = await tsdbSeries(sql, { model: "group", keyId: a.groupId!, ...range });
    const minute = (s: number) => new Date(Math.floor(s / 60) * 60_000).toISOString();
    const expected = new Map<string, number>();
    for (const s of [NOW, NOW + 1, NOW + 120]) expected.set(minute(s), (expected.get(minute(s)) ?? 0) + 1);
    expect(series).toEqual([...expected].map(([bucket, value]) => ({ bucket, value })));
    const [env] = await rows(store, "sentry_environment");
    expect(
      await tsdbTotal(sql, {
        model: "project",
        keyId: key.projectId,
        environmentId: Number(env.id),
        ...range,
      }),
    ).toBe(4);
    expect(
      await tsdbTotal(sql, { model: "project", keyId: key.projectId, environmentId: -1, ...range }),
    ).toBe(0);
  });

  it("#14 the payload is written to nodestore before the eventstream message, in the same transaction", async () => {
    // Each save below is a batch of its own: its payloads are written, then its messages.
    const order: string[] = [];
    const sql = ingest.sql as any;
    for (const method of ["run", "all"]) {
      const original = sql[method].bind(sql);
      sql[method] = (text: string, params: unknown[]) => {
        const m = /INSERT INTO (nodestore_node|relo_eventstream)/.exec(text);
        if (m?.[1] === "nodestore_node") order.push("payload");
        else if (m) order.push(...params.filter((_, i) => i % 5 === 0).map(String));
        return original(text, params);
      };
    }
    await saved(errorEvent({ timestamp: NOW }));
    await saved(transactionEvent());
    expect(order).toEqual(["payload", "events", "outcomes", "payload", "transactions", "outcomes"]);
  });

  it("#15 transactions go to the transactions topic with primary_hash null, all flags false, group_states null, and create no Group or GroupHash", async () => {
    const r = await saved(transactionEvent({ event_id: eventId(15), release: "app@1", environment: "prod" }));
    expect(r.groupId).toBeNull();
    expect(await count(store, "sentry_groupedmessage")).toBe(0);
    expect(await count(store, "sentry_grouphash")).toBe(0);
    expect(await messages(store, "events")).toEqual([]);
    const [m] = await messages(store, "transactions");
    const [version, op, p, state] = m.value;
    expect([version, op]).toEqual([2, "insert"]);
    expect(p.primary_hash).toBeNull();
    expect(p.group_id).toBeNull();
    expect(p.group_ids).toEqual([]);
    expect(state).toEqual({
      is_new: false,
      is_regression: false,
      is_new_group_environment: false,
      queue: "post_process_transactions",
      skip_consume: false,
      group_states: null,
    });
    expect(m.headers.group_states).toBeUndefined();
    expect(m.headers.primary_hash).toBeUndefined();
    expect(await count(store, "sentry_environmentrelease")).toBe(1);
    expect(await count(store, "sentry_releaseprojectenvironment")).toBe(1);
    expect(await count(store, "sentry_grouprelease")).toBe(0);
    const [p2] = await rows(store, "sentry_project");
    expect(p2.first_event).toBeNull();
    expect(Number(p2.flags) & 4).toBe(4);
    const data = (await payload(store, key.projectId, eventId(15)))!;
    expect(data).toMatchObject({ type: "transaction", title: "GET /items", culprit: "GET /items" });
  });

  it("#16 raw saves produce a message with skip_consume and leave project.first_event unset", async () => {
    await saved(errorEvent({ timestamp: NOW }), { raw: true });
    const [m] = await messages(store, "events");
    expect(m.value[3].skip_consume).toBe(true);
    expect(m.headers.skip_consume).toBe("1");
    const [p] = await rows(store, "sentry_project");
    expect(p.first_event).toBeNull();
  });

  it("#17 the first non-raw error event sets project.first_event; later ones leave it", async () => {
    await saved(errorEvent({ timestamp: NOW - 30 }));
    await saved(errorEvent({ timestamp: NOW - 90 }));
    const [p] = await rows(store, "sentry_project");
    expect(new Date(p.first_event).toISOString()).toBe(iso(NOW - 30));
  });

  it("#18 the message value is [2, 'insert', payload, state] with Sentry's keys; errors are keyed by project id", async () => {
    const r = await saved(errorEvent({ event_id: eventId(18), timestamp: NOW }));
    const [m] = await messages(store, "events");
    expect(m.key).toBe(String(key.projectId));
    const [version, op, p, state] = m.value;
    expect([version, op]).toEqual([2, "insert"]);
    expect(Object.keys(p).sort()).toEqual(
      [
        "group_id",
        "group_ids",
        "event_id",
        "organization_id",
        "project_id",
        "message",
        "platform",
        "datetime",
        "data",
        "primary_hash",
        "retention_days",
        "occurrence_id",
        "occurrence_data",
      ].sort(),
    );
    expect(p).toMatchObject({
      group_id: r.groupId,
      group_ids: [r.groupId],
      event_id: eventId(18),
      organization_id: key.organizationId,
      project_id: key.projectId,
      platform: "python",
      datetime: iso(NOW),
      retention_days: 90,
    });
    expect(p.primary_hash).toMatch(/^[0-9a-f]{32}$/);
    expect(p.data.hashes).toEqual([p.primary_hash]);
    expect(Object.keys(state).sort()).toEqual(
      ["is_new", "is_regression", "is_new_group_environment", "queue", "skip_consume", "group_states"].sort(),
    );
    expect(state.queue).toBe("post_process_errors");
    expect(state.group_states).toEqual([
      { id: r.groupId, is_new: true, is_regression: false, is_new_group_environment: true },
    ]);
    expect(m.headers).toMatchObject({
      operation: "insert",
      version: "2",
      queue: "post_process_errors",
      event_id: eventId(18),
      project_id: String(key.projectId),
      group_id: String(r.groupId),
      primary_hash: p.primary_hash,
    });
    expect(JSON.parse(m.headers.group_states)).toEqual(state.group_states);
  });

  it("#20 events of type generic and feedback keep their type", async () => {
    const r = await saved({
      type: "feedback",
      event_id: eventId(20),
      timestamp: NOW,
      contexts: { feedback: { message: "great" } },
    });
    expect((await payload(store, key.projectId, r.eventId))!.type).toBe("feedback");
    const g = await saved({ type: "generic", event_id: eventId(21), timestamp: NOW });
    expect((await payload(store, key.projectId, g.eventId))!.type).toBe("generic");
    expect(await count(store, "sentry_groupedmessage")).toBe(0);
  });

  it("#21 exactly one ACCEPTED outcome per saved event, stamped with the ingest start time", async () => {
    const received = NOW + 5.25;
    await saved(errorEvent({ event_id: eventId(21), timestamp: NOW }), { received });
    await saved(transactionEvent({ event_id: eventId(22) }), { received });
    const outcomes = (await messages(store, "outcomes")).map((m) => m.value);
    expect(outcomes).toEqual([
      {
        timestamp: new Date(received * 1000).toISOString(),
        org_id: key.organizationId,
        project_id: key.projectId,
        key_id: key.keyId,
        outcome: 0,
        reason: null,
        event_id: eventId(21),
        category: 1,
        quantity: 1,
      },
      expect.objectContaining({ outcome: 0, event_id: eventId(22), category: 2 }),
    ]);
  });

  it("a duplicate event id is saved again, as in Sentry: counted twice, one payload (the latest), two messages", async () => {
    const a = await saved(errorEvent({ event_id: eventId(30), timestamp: NOW, tags: { attempt: "1" } }));
    const b = await saved(errorEvent({ event_id: eventId(30), timestamp: NOW, tags: { attempt: "2" } }));
    expect(b.groupId).toBe(a.groupId);
    expect(Number((await group(a.groupId!)).times_seen)).toBe(2);
    expect(await count(store, "nodestore_node")).toBe(1);
    const data = (await payload(store, key.projectId, eventId(30)))!;
    expect(Object.fromEntries(data.tags).attempt).toBe("2");
    expect((await messages(store, "events")).map((m) => m.value[2].event_id)).toEqual([
      eventId(30),
      eventId(30),
    ]);
    const range = { start: iso(NOW - 60), end: iso(NOW + 60) };
    expect(await tsdbTotal(new Sql(store), { model: "group", keyId: a.groupId!, ...range })).toBe(2);
  });

  it("the stored payload carries the normalized event, its tags, user, hashes and metadata", async () => {
    const r = await saved(
      errorEvent({
        event_id: eventId(40),
        timestamp: NOW,
        environment: "production",
        logger: "app.log",
        user: { id: 42, email: "a@example.com" },
        request: { url: "https://shop.example.com/cart?id=3" },
        contexts: { runtime: { name: "CPython", version: "3.12.1" } },
        tags: [["shop", "eu"]],
      }),
    );
    const data = (await payload(store, key.projectId, r.eventId))!;
    expect(data).toMatchObject({
      event_id: eventId(40),
      project: key.projectId,
      key_id: String(key.keyId),
      type: "error",
      level: "error",
      title: "ValueError: bad input",
      culprit: "app.views in handle",
      location: "app/views.py",
      grouping_config: { id: "relo:1" },
      user: { id: "42", email: "a@example.com" },
    });
    expect(Object.fromEntries(data.tags)).toEqual({
      shop: "eu",
      level: "error",
      logger: "app.log",
      environment: "production",
      "sentry:user": "id:42",
      url: "https://shop.example.com/cart",
      runtime: "CPython 3.12.1",
      "runtime.name": "CPython",
    });
    expect(data._metrics["bytes.stored.event"]).toBeGreaterThan(100);
    expect(typeof data.nodestore_insert).toBe("number");
  });

  it("short ids are per project, from 1 in each", async () => {
    const keys = await importProjects(store, resolve(import.meta.dirname, "../examples/two-orgs.json"));
    const others = keys.filter((k) => k.projectId !== key.projectId);
    const a = await save(ingest, others[0], errorEvent({ timestamp: NOW }));
    const b = await save(ingest, others[others.length - 1], errorEvent({ timestamp: NOW }));
    const c = await saved(errorEvent({ timestamp: NOW }));
    const ids = [a, b].map((o) => (o.status === "saved" ? o.result.groupId! : 0));
    expect(Number((await group(ids[0])).short_id)).toBe(1);
    expect(Number((await group(ids[1])).short_id)).toBe(1);
    expect(Number((await group(c.groupId!)).short_id)).toBe(1);
    expect(await count(store, "sentry_projectcounter")).toBe(3);
  });

  it("a short id already taken (a stuck counter) moves the counter past the highest short id", async () => {
    const a = await saved(errorEvent({ timestamp: NOW }, "A"));
    const sql = new Sql(store);
    await sql.run("UPDATE sentry_groupedmessage SET short_id = 5 WHERE id = ?", [a.groupId]);
    await sql.run("UPDATE sentry_projectcounter SET value = 4 WHERE project_id = ?", [key.projectId]);
    const b = await saved(errorEvent({ timestamp: NOW }, "B"));
    expect(Number((await group(b.groupId!)).short_id)).toBe(6);
    const [counter] = await rows(store, "sentry_projectcounter");
    expect(Number(counter.value)).toBe(6);
    const c = await saved(errorEvent({ timestamp: NOW }, "C"));
    expect(Number((await group(c.groupId!)).short_id)).toBe(7);
  });

  it("events of one issue saved in one batch are counted together: times_seen, first and last seen, counters", async () => {
    await saved(errorEvent({ timestamp: NOW }));
    const stamps = [NOW - 40, NOW + 30, NOW - 10, NOW + 5];
    const outcomes = await Promise.all(stamps.map((t) => save(ingest, key, errorEvent({ timestamp: t }))));
    expect(outcomes.map((o) => o.status)).toEqual(["saved", "saved", "saved", "saved"]);
    const [g] = await rows(store, "sentry_groupedmessage");
    expect(Number(g.times_seen)).toBe(5);
    expect(new Date(g.first_seen).toISOString()).toBe(iso(NOW - 40));
    expect(new Date(g.last_seen).toISOString()).toBe(iso(NOW + 30));
    const range = { start: iso(NOW - 3600), end: iso(NOW + 3600) };
    expect(await tsdbTotal(new Sql(store), { model: "group", keyId: Number(g.id), ...range })).toBe(5);
    expect(await count(store, "nodestore_node")).toBe(5);
  });

  it("an issue keeps its real title when a later event has only a placeholder", async () => {
    const a = await saved({ message: "Payment declined", fingerprint: ["pay"], timestamp: NOW });
    await saved({ fingerprint: ["pay"], timestamp: NOW });
    const data = JSON.parse((await group(a.groupId!)).data);
    expect(data.title).toBe("Payment declined");
    expect(Number((await group(a.groupId!)).times_seen)).toBe(2);
  });

  it("an event that fails is rolled back alone; the rest of its batch is saved", async () => {
    const ghost = { ...key, projectId: 987654 };
    const [ok1, bad, ok2] = await Promise.all([
      save(ingest, key, errorEvent({ timestamp: NOW })),
      save(ingest, ghost, errorEvent({ timestamp: NOW })),
      save(ingest, key, errorEvent({ timestamp: NOW })),
    ]);
    expect(ok1.status).toBe("saved");
    expect(bad.status).toBe("failed");
    expect(ok2.status).toBe("saved");
    expect(await count(store, "nodestore_node")).toBe(2);
    expect((await messages(store, "events")).length).toBe(2);
  });

  it("message events group by message; a synthetic exception (the Node SDK's captureMessage) is their stack trace", async () => {
    const synthetic = {
      message: "cache miss",
      level: "info",
      exception: {
        values: [
          {
            value: "cache miss",
            stacktrace: { frames: [{ filename: "/srv/app.js", function: "load", in_app: true }] },
            mechanism: { type: "generic", synthetic: true },
          },
        ],
      },
      timestamp: NOW,
    };
    const a = await saved(synthetic);
    const b = await saved({ message: "cache miss", level: "info", timestamp: NOW });
    expect(b.groupId).toBe(a.groupId);
    const data = (await payload(store, key.projectId, a.eventId))!;
    expect(data).toMatchObject({
      type: "default",
      title: "cache miss",
      logentry: { formatted: "cache miss" },
    });
    const g = await group(a.groupId!);
    expect(Number(g.level)).toBe(20);
    expect(Number(g.priority)).toBe(25);
  });

  it("new events are refused (QueueFull) while too many, or too many bytes of them, wait to be saved", async () => {
    await ingest.close();
    ingest = newIngest(store, { maxQueue: 2, maxQueueBytes: 1500 });
    const job = (bytes: number) => ({
      projectId: key.projectId,
      keyId: key.keyId,
      data: normalizeEvent(errorEvent(), {
        projectId: key.projectId,
        keyId: key.keyId,
        clientIp: null,
        received: NOW,
      }),
      startTime: NOW,
      bytes,
    });
    const first = ingest.submit([job(1000)]);
    await expect(ingest.submit([job(1000)])).rejects.toThrow(QueueFull);
    const second = ingest.submit([job(400)]);
    await expect(ingest.submit([job(10)])).rejects.toThrow("too many events are waiting to be saved");
    expect((await first)[0].status).toBe("saved");
    expect((await second)[0].status).toBe("saved");
    // Once saved, the room is free again; a single event larger than the limit is never refused.
    expect((await ingest.submit([job(5000)]))[0].status).toBe("saved");
  });

  it("the embedded stream is trimmed to streamMaxLen messages per topic when nothing relays it", async () => {
    await ingest.close();
    ingest = newIngest(store, { streamMaxLen: 5, maxBatch: 1000 });
    // Trimming runs every 2000 events: not after the first 1100, then in the batch that passes 2000.
    await Promise.all(
      Array.from({ length: 1100 }, () => save(ingest, key, { message: "m", timestamp: NOW })),
    );
    expect((await messages(store, "events")).length).toBe(1100);
    await Promise.all(
      Array.from({ length: 1000 }, () => save(ingest, key, { message: "m", timestamp: NOW })),
    );
    const events = await messages(store, "events");
    expect(events.length).toBe(5);
    expect((await messages(store, "outcomes")).length).toBe(5);
    expect(events[4].offset).toBe(4199);
  });
});
