/**
 * Every shared Sentry fixture imports in every scope it applies to, with asserted counts.
 */
import { afterEach, beforeEach, expect, it } from "vitest";
import type { Store } from "../src/store/types.js";
import { describeEachDb, freshDb, type TestDb } from "./helpers/db.js";
import { count, fixture, importFile, rows } from "./helpers/import.js";

describeEachDb("fresh-install.json", (kind) => {
  let db: TestDb;
  let store: Store;
  beforeEach(async () => {
    db = await freshDb(kind);
    store = await db.open();
  });
  afterEach(async () => {
    await store.close();
    await db.dispose();
  });

  it("imports in Organization scope", async () => {
    const { stats } = await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    expect(await count(store, "auth_user")).toBe(3);
    expect(await count(store, "sentry_organization")).toBe(1);
    expect(await count(store, "sentry_organizationmember")).toBe(3);
    expect(await count(store, "sentry_projectkey")).toBe(1);
    expect(await count(store, "sentry_option")).toBe(0);
    expect(stats.of("sentry.option").dropped).toEqual({ "out of scope": 4 });
    const users = await rows(store, "auth_user");
    expect(users.map((u) => u.username)).toEqual(["admin@example.com", "member@example.com", "superadmin@example.com"]);
  });

  it("imports in Global scope, keeping passwords", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    expect(await count(store, "sentry_option")).toBe(4);
    expect(await count(store, "auth_authenticator")).toBe(2);
    const users = await rows(store, "auth_user");
    expect(users[0].password).toMatch(/^pbkdf2_sha256\$150000\$iEvdIknqYjTr\$\+QsGn0/);
  });
});
