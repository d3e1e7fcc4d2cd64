/**
 * Models whose rows decide their own scope (notification actions and their project links, API
 * authorizations) and rows only a whole-instance restore takes (global saved searches).
 */
import { expect, it } from "vitest";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { type ExportEntry, exhaustiveExport } from "./helpers/exhaustive.js";
import { count, importFile, rows, writeExport } from "./helpers/import.js";

const T = "2024-11-20T10:00:00.000Z";

/** The exhaustive export with `extra` rows inserted right after the last row of their model. */
function withExtra(...extra: ExportEntry[]): ExportEntry[] {
  const out = exhaustiveExport();
  for (const e of extra) {
    const last = out.map((x) => x.model).lastIndexOf(e.model);
    out.splice(last + 1, 0, e);
  }
  return out;
}

const savedSearch = (pk: number, fields: Record<string, unknown>): ExportEntry => ({
  model: "sentry.savedsearch",
  pk,
  fields: {
    organization: null,
    type: 0,
    query: "is:unresolved",
    sort: "date",
    date_added: T,
    owner_id: null,
    ...fields,
  },
});

it("decides the scope of a notification action, an API authorization and an API token per row", () => {
  const scopeOf = (model: string, fields: Record<string, unknown>) =>
    registry.get(model)!.instanceScope!(fields);
  const action = { integration_id: null, sentry_app_id: null };
  expect(scopeOf("sentry.notificationaction", action)).toBe("Organization");
  expect(scopeOf("sentry.notificationaction", { ...action, integration_id: 3 })).toBe("Global");
  expect(scopeOf("sentry.notificationaction", { ...action, sentry_app_id: 4 })).toBe("Global");
  expect(scopeOf("sentry.apiauthorization", { application: null })).toBe("Config");
  expect(scopeOf("sentry.apiauthorization", { application: 1 })).toBe("Global");
  expect(scopeOf("sentry.apitoken", { application: null })).toBe("Config");
  expect(scopeOf("sentry.apitoken", { application: 1 })).toBe("Global");
});

describeEachDb("per-row scopes", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("imports an organization's own notification action and its project link in Organization scope, not a Sentry app's", async () => {
    const { stats } = await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    const actions = await rows(store, "sentry_notificationaction");
    expect(actions.map((a) => a.sentry_app_id)).toEqual([null]);
    const links = await rows(store, "sentry_notificationactionproject");
    expect(links.map((l) => Number(l.action_id))).toEqual([Number(actions[0].id)]);
    // Its Sentry app (Global scope) is not imported, which drops it before its own scope counts.
    expect(stats.of("sentry.notificationaction").dropped).toEqual({
      "references a sentry.sentryapp that was not imported": 1,
    });
    expect(stats.of("sentry.notificationactionproject").dropped).toEqual({
      "references a sentry.notificationaction that was not imported": 1,
    });
  });

  it("imports both notification actions and both links in Global scope", async () => {
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Global" });
    expect(await count(store, "sentry_notificationaction")).toBe(2);
    expect(await count(store, "sentry_notificationactionproject")).toBe(2);
  });

  it("imports an integration-bound notification action only in Global scope", async () => {
    const bound: ExportEntry = {
      model: "sentry.notificationaction",
      pk: 3,
      fields: {
        integration_id: 1,
        sentry_app_id: null,
        type: 2,
        target_type: 0,
        target_identifier: "C123",
        target_display: "#alerts",
        organization: 4554016097501184,
        trigger_type: 0,
      },
    };
    await importFile(store, writeExport(withExtra(bound)), { scope: "Organization" });
    expect((await rows(store, "sentry_notificationaction")).map((a) => a.integration_id)).toEqual([null]);
  });

  it("imports a user's own API authorization in Config scope, an application's only in Global scope", async () => {
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Config" });
    expect((await rows(store, "sentry_apiauthorization")).map((a) => a.application_id)).toEqual([null]);
    expect(await count(store, "sentry_apiapplication")).toBe(0);
  });

  it("lets a user authorize an application once for all organizations and once per organization", async () => {
    const authorization = (pk: number, organizationId: number | null): ExportEntry => ({
      model: "sentry.apiauthorization",
      pk,
      fields: {
        scopes: "0",
        scope_list: "[]",
        application: 1,
        user: 1,
        date_added: T,
        organization_id: organizationId,
      },
    });
    await importFile(store, writeExport(withExtra(authorization(3, 4554016097501184))), { scope: "Global" });
    expect((await rows(store, "sentry_apiauthorization")).map((a) => a.organization_id !== null)).toEqual([
      false,
      false,
      true,
    ]);
    await expect(
      importFile(store, writeExport(withExtra(authorization(3, null))), { scope: "Global" }),
    ).rejects.toMatchObject({
      finding: { kind: "IntegrityError", on: { model: "sentry.apiauthorization" } },
    });
  });

  it("takes a global saved search only in a Global import", async () => {
    const { stats } = await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    expect((await rows(store, "sentry_savedsearch")).map((s) => Boolean(s.is_global))).toEqual([false]);
    expect(stats.of("sentry.savedsearch").dropped).toEqual({
      "a global search is only imported in Global scope": 1,
    });
  });

  it("keeps global saved search names unique, and other names free (Sentry's conditional unique)", async () => {
    const sameName = [
      savedSearch(10, {
        organization: 4554016097501184,
        name: "Global Search",
        is_global: false,
        visibility: "organization",
      }),
    ];
    await importFile(store, writeExport(withExtra(...sameName)), { scope: "Global" });
    expect((await rows(store, "sentry_savedsearch")).filter((s) => s.name === "Global Search")).toHaveLength(
      2,
    );

    const twoGlobal = [
      savedSearch(10, { name: "Global Search", is_global: true, visibility: "organization" }),
    ];
    await expect(
      importFile(store, writeExport(withExtra(...twoGlobal)), { scope: "Global" }),
    ).rejects.toMatchObject({
      finding: { kind: "IntegrityError", on: { model: "sentry.savedsearch" } },
    });
  });

  it("allows one pinned search per user and search type", async () => {
    const pinned = (pk: number, type: number) =>
      savedSearch(pk, {
        organization: 4554016097501184,
        name: `pin ${pk}`,
        type,
        is_global: false,
        owner_id: 1,
        visibility: "owner_pinned",
      });
    await importFile(store, writeExport(withExtra(pinned(10, 0), pinned(11, 1))), { scope: "Organization" });
    expect(await count(store, "sentry_savedsearch")).toBe(3);
    await expect(
      importFile(store, writeExport(withExtra(pinned(10, 0), pinned(11, 0))), { scope: "Organization" }),
    ).rejects.toMatchObject({ finding: { kind: "IntegrityError", on: { model: "sentry.savedsearch" } } });
  });
});
