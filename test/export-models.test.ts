/**
 * Scoped exports of models that have no reference to the organization they belong to.
 */
import { expect, it } from "vitest";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { exhaustiveExport } from "./helpers/exhaustive.js";
import { entries, exportText } from "./helpers/export.js";
import { importFile, rows, writeExport } from "./helpers/import.js";

describeEachDb("scoped exports", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("exports only the Snuba queries of the selected organizations' alert rules and subscriptions", async () => {
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    await importFile(store, writeExport(exhaustiveExport()), { scope: "Organization" });
    const [first, second] = (await rows(store, "sentry_organization")).map((o) => o.slug as string);
    const queries = async (slugs: string[] | null) => {
      const filterBy = slugs
        ? { model: "sentry.organization" as const, field: "slug" as const, values: new Set(slugs) }
        : null;
      const text = await exportText(store, { scope: "Organization", filterBy });
      return entries(text).filter((e) => e.model === "sentry.snubaquery").length;
    };
    expect(await queries(null)).toBe(2);
    expect(await queries([first])).toBe(1);
    expect(await queries([second])).toBe(1);
    expect(await queries([])).toBe(0);
  });

  it("exports a query only an alert rule uses, and one only a subscription uses", async () => {
    const base = exhaustiveExport();
    const at = base.findIndex((e) => e.model === "sentry.snubaquery") + 1;
    const query = { ...base.find((e) => e.model === "sentry.snubaquery")! };
    const extra = [
      { ...query, pk: 2 },
      { ...query, pk: 3 },
    ];
    const withQueries = [...base.slice(0, at), ...extra, ...base.slice(at)].map((e) => {
      if (e.model === "sentry.alertrule") return { ...e, fields: { ...e.fields, snuba_query: 2 } };
      if (e.model === "sentry.querysubscription") return { ...e, fields: { ...e.fields, snuba_query: 3 } };
      return e;
    });
    await importFile(store, writeExport(withQueries), { scope: "Organization" });
    const text = await exportText(store, {
      scope: "Organization",
      filterBy: { model: "sentry.organization", field: "slug", values: new Set(["test-org"]) },
    });
    expect(entries(text).filter((e) => e.model === "sentry.snubaquery")).toHaveLength(2);
  });
});
