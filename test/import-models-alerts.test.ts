/**
 * Relocation behavior of metric alerts, incidents and monitors: subscriptions are re-created for
 * Snuba, identifiers that must be unique across instances are regenerated.
 */
import { expect, it } from "vitest";
import { SUBSCRIPTION_CREATING } from "../src/models/alerts.js";
import { fromDb } from "../src/store/codec.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { type ExportEntry, exhaustiveExport } from "./helpers/exhaustive.js";
import { importFile, rows, writeExport } from "./helpers/import.js";

const iso = (v: unknown) => fromDb({ name: "t", column: "t", type: "datetime", nullable: true }, v) as string;

/** The exhaustive export with `change` applied to the fields of the rows of `model`. */
function withRows(model: string, change: (fields: Record<string, unknown>) => void): ExportEntry[] {
  return exhaustiveExport().map((e) => {
    if (e.model !== model) return e;
    const fields = { ...e.fields };
    change(fields);
    return { ...e, fields };
  });
}

const exported = (model: string) => exhaustiveExport().find((e) => e.model === model)!.fields;

describeEachDb("metric alerts, incidents and monitors", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("re-creates a query subscription for Snuba: new, no Snuba id yet, original creation date", async () => {
    const before = new Date().toISOString();
    const registered = withRows("sentry.querysubscription", (f) => {
      f.status = 0;
      f.subscription_id = "1/a1b2c3";
    });
    await importFile(store, writeExport(registered), { scope: "Organization" });
    const [sub] = await rows(store, "sentry_querysubscription");
    expect(sub.status).toBe(SUBSCRIPTION_CREATING);
    expect(sub.subscription_id).toBeNull();
    expect(iso(sub.date_added)).toBe(exported("sentry.querysubscription").date_added);
    expect(iso(sub.date_updated) >= before).toBe(true);
    expect(sub.type).toBe("incidents");
  });

  it("imports a subscription whose Snuba id exists here already (Sentry's collision test)", async () => {
    const registered = withRows("sentry.querysubscription", (f) => {
      f.subscription_id = "1/a1b2c3";
    });
    await importFile(store, writeExport(registered), { scope: "Organization" });
    await store.db.updateTable("sentry_querysubscription").set({ subscription_id: "1/a1b2c3" }).execute();
    await importFile(store, writeExport(registered), { scope: "Organization" });
    const subs = await rows(store, "sentry_querysubscription");
    expect(subs.map((s) => s.subscription_id)).toEqual(["1/a1b2c3", null]);
  });

  it("gives an incident a new detection id, and an incident activity a new notification id", async () => {
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Global" });
    const [incident] = await rows(store, "sentry_incident");
    const [activity] = await rows(store, "sentry_incidentactivity");
    expect(incident.detection_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(incident.detection_uuid).not.toBe(exported("sentry.incident").detection_uuid);
    expect(activity.notification_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(activity.notification_uuid).not.toBe(exported("sentry.incidentactivity").notification_uuid);
  });

  it("leaves absent detection and notification ids absent", async () => {
    const entries = withRows("sentry.incident", (f) => {
      f.detection_uuid = null;
    }).map((e) =>
      e.model === "sentry.incidentactivity" ? { ...e, fields: { ...e.fields, notification_uuid: null } } : e,
    );
    await importFile(store, writeExport(entries), { scope: "Global" });
    expect((await rows(store, "sentry_incident"))[0].detection_uuid).toBeNull();
    expect((await rows(store, "sentry_incidentactivity"))[0].notification_uuid).toBeNull();
  });

  it("keeps an incident whose alert rule activation (never exported) it names, without it (Sentry drops it)", async () => {
    const { stats } = await importFile(
      store,
      writeExport(
        withRows("sentry.incident", (f) => {
          f.activation = 7;
        }),
      ),
      { scope: "Global" },
    );
    expect(stats.of("sentry.incident").dropped).toEqual({});
    const [incident] = await rows(store, "sentry_incident");
    expect(incident.activation_id).toBeNull();
  });

  it("gives every imported monitor a new GUID, so the same export imports twice", async () => {
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    const monitors = await rows(store, "sentry_monitor");
    const guids = monitors.map((m) => m.guid);
    expect(guids).toHaveLength(2);
    expect(new Set(guids).size).toBe(2);
    expect(guids).not.toContain(exported("sentry.monitor").guid);
    // Slugs are unique per project, and each import made its own project.
    expect(monitors.map((m) => m.slug)).toEqual(["1087680245a9", "1087680245a9"]);
    expect(new Set(monitors.map((m) => m.project_id)).size).toBe(2);
  });

  it("allows one everyone-snooze per rule but any number of per-user snoozes (Sentry's conditional uniques)", async () => {
    const snooze = (pk: number, userId: number | null) => ({
      model: "sentry.rulesnooze",
      pk,
      fields: {
        user_id: userId,
        owner_id: 1,
        rule: 1,
        alert_rule: null,
        until: null,
        date_added: "2024-11-20T10:00:00.000Z",
      },
    });
    const base = exhaustiveExport().filter((e) => e.model !== "sentry.rulesnooze");
    const at = base.findIndex((e) => e.model === "sentry.neglectedrule");
    const perUser = [...base.slice(0, at), snooze(1, 1), snooze(2, 2), snooze(3, null), ...base.slice(at)];
    await importFile(store, writeExport(perUser), { scope: "Organization" });
    expect((await rows(store, "sentry_rulesnooze")).map((s) => s.user_id === null)).toEqual([
      false,
      false,
      true,
    ]);

    const twice = [...base.slice(0, at), snooze(1, null), snooze(2, null), ...base.slice(at)];
    await expect(importFile(store, writeExport(twice), { scope: "Organization" })).rejects.toMatchObject({
      finding: { kind: "IntegrityError", on: { model: "sentry.rulesnooze" } },
    });
  });
});
