/**
 * A late-2024 export holding every relocatable model (test/helpers/exhaustive.ts) imports in
 * every scope: Global brings every row of all 95 models, the narrower scopes exactly the rows
 * their relocation scopes (and per-row scopes) admit.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { ACCEPTED_SCOPES, possibleScopes, registry } from "../src/models/registry.js";
import type { RelocationScope, Scope } from "../src/models/types.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { type ExportEntry, exhaustiveExport } from "./helpers/exhaustive.js";
import { compareTexts, entries, exportText } from "./helpers/export.js";
import { count, FIXTURES, importFile, writeExport } from "./helpers/import.js";

const detailed: Record<string, { relocation_scope: RelocationScope | RelocationScope[] }> = JSON.parse(
  readFileSync(resolve(FIXTURES, "model_dependencies/detailed.json"), "utf8"),
);

const RELOCATABLE = Object.entries(detailed)
  .filter(([, d]) => d.relocation_scope !== "Excluded")
  .map(([name]) => name)
  .sort();

function rowsPerModel(entries: ExportEntry[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of entries) out.set(e.model, (out.get(e.model) ?? 0) + 1);
  return out;
}

/**
 * Rows per model a scope imports from the exhaustive export: by the model's scopes, then the
 * per-row rules (application-bound tokens and authorizations, integration-bound notification
 * actions and their project links, global saved searches).
 */
function expectedRows(scope: Scope): Map<string, number> {
  const accepted = ACCEPTED_SCOPES[scope];
  const global = scope === "Global";
  const out = new Map<string, number>();
  for (const e of exhaustiveExport()) {
    const model = registry.get(e.model)!;
    if (!possibleScopes(model).some((s) => accepted.has(s))) continue;
    const f = e.fields;
    if (!global) {
      if ((e.model === "sentry.apitoken" || e.model === "sentry.apiauthorization") && f.application !== null)
        continue;
      if (e.model === "sentry.notificationaction" && f.sentry_app_id !== null) continue;
      if (e.model === "sentry.notificationactionproject" && f.action === 2) continue;
      if (e.model === "sentry.savedsearch" && f.is_global) continue;
    }
    out.set(e.model, (out.get(e.model) ?? 0) + 1);
  }
  return out;
}

async function importedRows(store: Store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const name of RELOCATABLE) {
    const n = await count(store, registry.get(name)!.table);
    if (n > 0) out.set(name, n);
  }
  return out;
}

const T = "2024-11-20T10:00:00.000Z";

/** Values an import sets anew on purpose (tested in import-models-alerts.test.ts). */
const REGENERATED: Record<string, string[]> = {
  "sentry.monitor": ["guid"],
  "sentry.incident": ["detection_uuid"],
  "sentry.incidentactivity": ["notification_uuid"],
  "sentry.querysubscription": ["date_updated"],
};

/** Links a workflow to an issue; issues are never exported, so no export can hold one that imports. */
const GROUP_STATUS = "workflow_engine.workflowgroupstatus";

it("the exhaustive export holds every relocatable model of detailed.json but the issue-bound one", () => {
  expect(RELOCATABLE).toHaveLength(95);
  expect([...rowsPerModel(exhaustiveExport()).keys()].sort()).toEqual(
    RELOCATABLE.filter((n) => n !== GROUP_STATUS),
  );
});

describeEachDb("an export of every relocatable model", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("imports every row of all 94 exportable models in Global scope, dropping nothing", async () => {
    const entries = exhaustiveExport();
    const { stats } = await importFile(store, writeExport(entries), { scope: "Global" });
    expect(Object.fromEntries(await importedRows(store))).toEqual(Object.fromEntries(rowsPerModel(entries)));
    for (const name of RELOCATABLE) expect(stats.of(name).dropped, name).toEqual({});
  });

  it("exports again, in Global scope, what it imported: compare finds nothing, every field as exported", async () => {
    const original = exhaustiveExport();
    // Sentry writes a float field's integral value as 100.0; JSON.stringify would write 100.
    const originalText = JSON.stringify(original).replace(
      '"alert_threshold":100,',
      '"alert_threshold":100.0,',
    );
    await importFile(store, writeExport(originalText), { scope: "Global" });
    const text = await exportText(store, { scope: "Global" });
    expect(await compareTexts(originalText, text)).toEqual([]);
    // Field by field, in the model's order.
    const exported = entries(text);
    expect(exported.map((e) => e.model)).toEqual(original.map((e) => e.model));
    for (const [i, e] of exported.entries()) {
      expect(Object.keys(e.fields), e.model).toEqual(registry.get(e.model)!.fields.map((f) => f.name));
      for (const [name, value] of Object.entries(original[i].fields)) {
        // References hold new pks (compare above follows them); regenerated values are new.
        if (registry.get(e.model)!.fields.find((f) => f.name === name)!.fk) continue;
        if (REGENERATED[e.model]?.includes(name)) continue;
        expect(e.fields[name], `${e.model}.${name}`).toEqual(value);
      }
    }
  });

  it.each(["Organization", "Config", "User"] as const)(
    "imports exactly what %s scope admits",
    async (scope) => {
      await importFile(store, writeExport(exhaustiveExport()), { scope });
      expect(Object.fromEntries(await importedRows(store))).toEqual(Object.fromEntries(expectedRows(scope)));
    },
  );

  it.each(["Organization", "Global"] as const)(
    "drops a workflow's issue status in %s scope: its issue is never exported (as in Sentry)",
    async (scope) => {
      const status: ExportEntry = {
        model: GROUP_STATUS,
        pk: 1,
        fields: { date_updated: T, date_added: T, workflow: 1, group: 42, status: 0 },
      };
      const { stats } = await importFile(store, writeExport([...exhaustiveExport(), status]), { scope });
      expect(stats.of(GROUP_STATUS).dropped).toEqual({
        "references a sentry.group that was not imported": 1,
      });
      expect(await count(store, "workflow_engine_workflow")).toBe(1);
    },
  );
});
