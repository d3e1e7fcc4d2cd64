/**
 * Conformance checklist (spec/import.md §16) items 1-6: import scopes and flags. Item 7 (CONTROL
 * silo) does not apply: relo is a single-process monolith.
 */
import { expect, it } from "vitest";
import type { Scope } from "../src/models/types.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile, rows, writeExport } from "./helpers/import.js";

const CHUNK_TABLES = [
  "sentry_regionimportchunk",
  "sentry_controlimportchunk",
  "sentry_controlimportchunkreplica",
];

const user = (pk: number, username: string) => ({
  model: "sentry.user",
  pk,
  fields: {
    password: "pbkdf2_sha256$1000$salt$aGFzaA==",
    username,
    name: "",
    email: `${username}@example.com`,
  },
});

describeEachDb("scopes and flags", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("#1 importing a file containing an Organization in User scope imports no Organization rows and reports success", async () => {
    const result = await importFile(store, fixture("fresh-install.json"), { scope: "User" });
    expect(await count(store, "sentry_organization")).toBe(0);
    expect(await count(store, "sentry_organizationmember")).toBe(0);
    expect(await count(store, "sentry_project")).toBe(0);
    expect(result.stats.of("sentry.organization").dropped).toEqual({ "out of scope": 1 });
    expect(result.pkMap.size("sentry.organization")).toBe(0);
    // The User-scope part of the file did arrive.
    const users = await rows(store, "auth_user");
    expect(users.map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
  });

  it("#2 importing in Config scope imports sentry.user rows but no sentry.organization rows", async () => {
    const result = await importFile(store, fixture("fresh-install.json"), { scope: "Config" });
    const users = await rows(store, "auth_user");
    expect(users.map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
    expect(result.pkMap.getKind("sentry.user", 1)).toBe("Inserted");
    expect(await count(store, "sentry_organization")).toBe(0);
    expect(result.stats.of("sentry.organization").dropped).toEqual({ "out of scope": 1 });
    // Config-scope models are imported next to the users.
    expect(await count(store, "sentry_option")).toBe(4);
  });

  it("#3 importing in Organization scope imports no sentry.option / sentry.controloption rows", async () => {
    const path = writeExport([
      { model: "sentry.option", pk: 1, fields: { key: "sentry:region-option", value: "r" } },
      { model: "sentry.controloption", pk: 1, fields: { key: "sentry:control-option", value: "c" } },
      { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } },
      user(1, "alice"),
      { model: "sentry.organizationmember", pk: 1, fields: { organization: 1, user_id: 1, role: "owner" } },
    ]);
    const result = await importFile(store, path, { scope: "Organization" });
    expect(await count(store, "sentry_option")).toBe(0);
    expect(await count(store, "sentry_controloption")).toBe(0);
    expect(result.stats.of("sentry.option").dropped).toEqual({ "out of scope": 1 });
    expect(result.stats.of("sentry.controloption").dropped).toEqual({ "out of scope": 1 });
    expect((await rows(store, "sentry_organization")).map((o) => o.slug)).toEqual(["acme"]);
    expect((await rows(store, "auth_user")).map((u) => u.username)).toEqual(["alice"]);
    expect(await count(store, "sentry_organizationmember")).toBe(1);
  });

  it("#4 importing in Global scope imports sentry.authenticator rows", async () => {
    const result = await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const auths = await rows(store, "auth_authenticator");
    expect(auths).toHaveLength(2);
    const userPks = [result.pkMap.getPk("sentry.user", 1), result.pkMap.getPk("sentry.user", 2)];
    expect(auths.map((a) => Number(a.user_id))).toEqual(userPks);
    expect(auths.map((a) => Number(a.type))).toEqual([1, 1]);
  });

  it.each(["Config", "Organization", "User"] as Scope[])(
    "#4 importing in %s scope never imports sentry.authenticator rows",
    async (scope) => {
      const result = await importFile(store, fixture("fresh-install.json"), { scope });
      expect(await count(store, "auth_authenticator")).toBe(0);
      expect(result.stats.of("sentry.authenticator").dropped).toEqual({ "out of scope": 2 });
      // The users they belong to were imported, so nothing but the scope kept them out.
      expect(await count(store, "auth_user")).toBe(3);
    },
  );

  const tokenExport = () =>
    writeExport([
      user(1, "alice"),
      {
        model: "sentry.apiapplication",
        pk: 1,
        fields: {
          owner: 1,
          name: "app",
          redirect_uris: "",
          client_id: "c".repeat(64),
          client_secret: "s".repeat(64),
        },
      },
      {
        model: "sentry.apitoken",
        pk: 1,
        fields: {
          scopes: "0",
          scope_list: ["org:read"],
          application: null,
          user: 1,
          token: "a".repeat(64),
          refresh_token: null,
          expires_at: null,
        },
      },
      {
        model: "sentry.apitoken",
        pk: 2,
        fields: {
          scopes: "0",
          scope_list: ["org:read"],
          application: 1,
          user: 1,
          token: "b".repeat(64),
          refresh_token: "r".repeat(64),
        },
      },
    ]);

  it("#5 an ApiToken without application_id is imported in Config scope; one with an application is skipped", async () => {
    const result = await importFile(store, tokenExport(), { scope: "Config" });
    const tokens = await rows(store, "sentry_apitoken");
    expect(tokens.map((t) => t.token)).toEqual(["a".repeat(64)]);
    expect(tokens[0].application_id).toBeNull();
    expect(Number(tokens[0].user_id)).toBe(result.pkMap.getPk("sentry.user", 1));
    expect(result.pkMap.getKind("sentry.apitoken", 1)).toBe("Inserted");
    expect(result.pkMap.getPk("sentry.apitoken", 2)).toBeNull();
    expect(await count(store, "sentry_apiapplication")).toBe(0);
  });

  it("#5 an ApiToken with an application is imported in Global scope", async () => {
    const result = await importFile(store, tokenExport(), { scope: "Global" });
    const tokens = await rows(store, "sentry_apitoken");
    expect(tokens.map((t) => t.token).sort()).toEqual(["a".repeat(64), "b".repeat(64)]);
    const withApp = tokens.find((t) => t.token === "b".repeat(64))!;
    expect(Number(withApp.application_id)).toBe(result.pkMap.getPk("sentry.apiapplication", 1));
    expect(result.pkMap.getKind("sentry.apitoken", 2)).toBe("Inserted");
  });

  it("#6 without import_uuid, all ImportChunk rows of one import share one fresh 32-hex-char uuid", async () => {
    const chunkRows = async () => {
      const out: Record<string, any>[] = [];
      for (const table of CHUNK_TABLES) out.push(...(await rows(store, table)));
      return out;
    };
    const first = await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    expect(first.importUuid).toMatch(/^[0-9a-f]{32}$/);
    const afterFirst = await chunkRows();
    // Region models (organization, project, ...) and control models (user, email, ...) both wrote chunks.
    expect(afterFirst.map((c) => c.model)).toEqual(
      expect.arrayContaining(["sentry.organization", "sentry.user"]),
    );
    expect(new Set(afterFirst.map((c) => c.import_uuid))).toEqual(new Set([first.importUuid]));

    const second = await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    expect(second.importUuid).toMatch(/^[0-9a-f]{32}$/);
    expect(second.importUuid).not.toBe(first.importUuid);
    const added = (await chunkRows()).filter((c) => c.import_uuid !== first.importUuid);
    expect(added).toHaveLength(afterFirst.length);
    expect(new Set(added.map((c) => c.import_uuid))).toEqual(new Set([second.importUuid]));
  });
});
