/**
 * Orchestration and batching: import.md §16 items 30-42 (item 41 is a CLI behavior, tested in
 * cli-import.test.ts). Where relo deliberately differs from Sentry, the test name says so.
 */
import { expect, it } from "vitest";
import { SENTRY_BATCH_SIZE } from "../src/backup/import/batches.js";
import { importByModel } from "../src/backup/import/by-model.js";
import { PrimaryKeyMap } from "../src/backup/pkmap.js";
import { registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, finding, fixture, importFile, rows, snapshot, writeExport } from "./helpers/import.js";

const TABLES = registry.ordered.map((m) => m.table);
const UUID = "0123456789abcdef0123456789abcdef";

const option = (pk: number | null, key: string, value = '"v"') => ({
  model: "sentry.option",
  pk,
  fields: { key, last_updated: "2023-06-22T00:00:00.000Z", last_updated_by: "unknown", value },
});
const user = (pk: number | null, username: string, fields: Record<string, unknown> = {}) => ({
  model: "sentry.user",
  pk,
  fields: {
    password: "pbkdf2_sha256$1$salt$hash",
    username,
    name: "",
    email: `${username}@example.com`,
    ...fields,
  },
});
const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const project = (pk: number, organization: number, slug: string) => ({
  model: "sentry.project",
  pk,
  fields: { slug, name: slug, organization },
});
const relay = (pk: number, relayId: string) => ({
  model: "sentry.relay",
  pk,
  fields: { relay_id: relayId, public_key: `key-${relayId}` },
});
const orgAuthToken = (pk: number, fields: Record<string, unknown>) => ({
  model: "sentry.orgauthtoken",
  pk,
  fields: {
    token_hashed: `hash-${pk}`,
    token_last_characters: "abcd",
    name: `token ${pk}`,
    scope_list: ["org:ci"],
    ...fields,
  },
});

/** Import chunks of a table as plain numbers and maps, in id order. */
async function chunks(store: Store, table: string) {
  return (await rows(store, table)).map((c) => ({
    importUuid: c.import_uuid,
    model: c.model,
    minOrdinal: Number(c.min_ordinal),
    maxOrdinal: Number(c.max_ordinal),
    minSourcePk: Number(c.min_source_pk),
    maxSourcePk: Number(c.max_source_pk),
    minInsertedPk: c.min_inserted_pk === null ? null : Number(c.min_inserted_pk),
    maxInsertedPk: c.max_inserted_pk === null ? null : Number(c.max_inserted_pk),
    insertedMap: JSON.parse(c.inserted_map),
    existingMap: JSON.parse(c.existing_map),
    overwriteMap: JSON.parse(c.overwrite_map),
    insertedIdentifiers: JSON.parse(c.inserted_identifiers),
  }));
}

describeEachDb("import batches", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("#30 a run of 45 objects imports in batches 1, 21, 41 (relo: with Sentry's batch size of 20; relo's default batches are larger)", async () => {
    const entries = Array.from({ length: 45 }, (_, i) => option(i + 1, `key.${i + 1}`));
    const seen: [string, number][] = [];
    const { importUuid } = await importFile(store, writeExport(entries), {
      scope: "Config",
      batchSize: SENTRY_BATCH_SIZE,
      onBatch: (model, n) => seen.push([model, n]),
    });
    expect(seen).toEqual([
      ["sentry.option", 20],
      ["sentry.option", 20],
      ["sentry.option", 5],
    ]);
    expect(await count(store, "sentry_option")).toBe(45);
    const written = await chunks(store, "sentry_regionimportchunk");
    expect(written.map((c) => [c.model, c.minOrdinal, c.maxOrdinal, c.minSourcePk, c.maxSourcePk])).toEqual([
      ["sentry.option", 1, 20, 1, 20],
      ["sentry.option", 21, 40, 21, 40],
      ["sentry.option", 41, 45, 41, 45],
    ]);
    expect(new Set(written.map((c) => c.importUuid))).toEqual(new Set([importUuid]));
    expect(written[2].insertedMap).toEqual({ 41: 41, 42: 42, 43: 43, 44: 44, 45: 45 });
  });

  it("(relo) chunks written in groups: every batch of a 75-batch import has its chunk (control and replica), and a retry writes nothing", async () => {
    const entries = Array.from({ length: 150 }, (_, i) => user(i + 1, `user${i + 1}`));
    const path = writeExport(entries);
    const { importUuid, pkMap } = await importFile(store, path, { scope: "User", batchSize: 2 });
    for (const table of ["sentry_controlimportchunk", "sentry_controlimportchunkreplica"]) {
      const written = await chunks(store, table);
      expect(written.map((c) => c.minOrdinal)).toEqual(Array.from({ length: 75 }, (_, i) => 2 * i + 1));
      expect(written.every((c) => c.importUuid === importUuid && c.maxOrdinal === c.minOrdinal + 1)).toBe(
        true,
      );
    }
    const before = await snapshot(store, TABLES);
    const again = await importFile(store, path, { scope: "User", batchSize: 2, flags: { importUuid } });
    expect(await snapshot(store, TABLES)).toBe(before);
    expect(again.pkMap.entries("sentry.user")).toEqual(pkMap.entries("sentry.user"));
    expect(await count(store, "sentry_controlimportchunk")).toBe(75);
  });

  it("#30 (relo) a second, separate run of a model continues its ordinals and is imported (Sentry restarts at 1 and skips it)", async () => {
    const entries = [
      option(1, "a"),
      option(2, "b"),
      option(3, "c"),
      relay(1, "r1"),
      option(4, "d"),
      option(5, "e"),
    ];
    await importFile(store, writeExport(entries), { scope: "Config" });
    expect((await rows(store, "sentry_option")).map((o) => o.key)).toEqual(["a", "b", "c", "d", "e"]);
    const optionChunks = (await chunks(store, "sentry_regionimportchunk")).filter(
      (c) => c.model === "sentry.option",
    );
    expect(optionChunks.map((c) => [c.minOrdinal, c.maxOrdinal])).toEqual([
      [1, 3],
      [4, 5],
    ]);
  });

  it("#31 (relo) an unknown model is an ImportingError of kind UnknownModel, not a skip, and nothing is kept", async () => {
    await importFile(store, fixture("single-option.json"), { scope: "Config" });
    const before = await snapshot(store, TABLES);
    const path = writeExport([
      option(1, "a"),
      option(2, "b"),
      relay(1, "r1"),
      { model: "sentry.nope", pk: 1, fields: {} },
    ]);
    const f = await finding(importFile(store, path, { scope: "Config" }));
    expect(f.kind).toBe("UnknownModel");
    expect(f.on.model).toBe("sentry.nope");
    expect(f.reason).toContain("The model `sentry.nope` could not be found");
    expect(await snapshot(store, TABLES)).toBe(before);
  });

  it("#32 an object with pk null is silently skipped", async () => {
    const { stats } = await importFile(
      store,
      writeExport([option(1, "a"), option(null, "b"), option(3, "c")]),
      {
        scope: "Config",
      },
    );
    expect((await rows(store, "sentry_option")).map((o) => o.key)).toEqual(["a", "c"]);
    expect(stats.of("sentry.option").dropped).toEqual({ "no pk": 1 });
    const [chunk] = await chunks(store, "sentry_regionimportchunk");
    expect(chunk.insertedMap).toEqual({ 1: 1, 3: 2 });
  });

  it("#32 (relo) an object with no pk key at all is an input error and nothing is kept", async () => {
    const noPk = { model: "sentry.option", fields: option(2, "b").fields };
    await expect(importFile(store, writeExport([option(1, "a"), noPk]), { scope: "Config" })).rejects.toThrow(
      /entry 2 .*sentry\.option.* has no "pk"/,
    );
    expect(await count(store, "sentry_option")).toBe(0);
  });

  it('#33 (relo) a Project before its Organization is a ValidationError ("not in the export before it"), not a silent skip', async () => {
    const path = writeExport([project(1, 1, "backend"), org(1, "acme")]);
    const f = await finding(importFile(store, path, { scope: "Organization" }));
    expect(f.kind).toBe("ValidationError");
    expect(f.on).toEqual({ model: "sentry.project", ordinal: 1 });
    expect(f.reason).toContain("not in the export before it");
    expect(f.reason).toContain("sentry.organization pk 1");
    expect(await count(store, "sentry_project")).toBe(0);
    expect(await count(store, "sentry_organization")).toBe(0);
  });

  it("#34 an error in the 5th model group rolls back the rows of groups 1-4", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const before = await snapshot(store, TABLES);
    const path = writeExport([
      option(10, "group.one"),
      { model: "sentry.controloption", pk: 10, fields: option(10, "group.two").fields },
      relay(10, "group-three"),
      { model: "sentry.relayusage", pk: 10, fields: { relay_id: "group-four", version: "1.0.0" } },
      { model: "sentry.userrole", pk: 10, fields: { name: "x".repeat(40), permissions: [] } },
    ]);
    const seen: string[] = [];
    const f = await finding(importFile(store, path, { scope: "Config", onBatch: (m) => seen.push(m) }));
    expect(seen).toEqual(["sentry.option", "sentry.controloption", "sentry.relay", "sentry.relayusage"]);
    expect(f.kind).toBe("ValidationError");
    expect(f.on).toEqual({ model: "sentry.userrole", ordinal: 1 });
    expect(await snapshot(store, TABLES)).toBe(before);
    expect(await count(store, "sentry_relayusage")).toBe(1);
  });

  it("#35 OrgAuthToken rows are written after all other models, even when they come earlier in the file", async () => {
    const path = writeExport([
      user(1, "alice"),
      org(1, "acme"),
      // References a project that comes later in the file: only importable because it is deferred.
      orgAuthToken(1, { organization_id: 1, created_by: 1, project_last_used_id: 5 }),
      project(5, 1, "backend"),
      {
        model: "sentry.useroption",
        pk: 1,
        fields: { user: 1, project_id: 5, organization_id: null, key: "k", value: '"v"' },
      },
    ]);
    const seen: string[] = [];
    await importFile(store, path, { scope: "Organization", onBatch: (m) => seen.push(m) });
    expect(seen).toEqual([
      "sentry.user",
      "sentry.organization",
      "sentry.project",
      "sentry.useroption",
      "sentry.orgauthtoken",
    ]);
    const [projectRow] = await rows(store, "sentry_project");
    const [token] = await rows(store, "sentry_orgauthtoken");
    expect(Number(token.project_last_used_id)).toBe(Number(projectRow.id));
    expect(Number(projectRow.id)).not.toBe(5);
    expect(token.token_hashed).toBe("hash-1");
    const control = await chunks(store, "sentry_controlimportchunk");
    expect(control.map((c) => c.model)).toEqual(["sentry.user", "sentry.useroption", "sentry.orgauthtoken"]);
  });

  it("#35 (relo) a failure while importing OrgAuthTokens rolls back everything (all-or-nothing), not just the tokens", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const before = await snapshot(store, TABLES);
    const path = writeExport([
      org(1, "acme"),
      orgAuthToken(1, { organization_id: 1, name: "n".repeat(300) }),
      project(1, 1, "backend"),
    ]);
    const f = await finding(importFile(store, path, { scope: "Organization" }));
    expect(f.kind).toBe("ValidationError");
    expect(f.on.model).toBe("sentry.orgauthtoken");
    expect(await snapshot(store, TABLES)).toBe(before);
    expect((await rows(store, "sentry_organization")).map((o) => o.slug)).toEqual(["testing"]);
  });

  it("#36 a second importByModel call with the same import_uuid, model and min_ordinal writes nothing and returns the same mapping", async () => {
    const args = {
      model: "sentry.user",
      scope: "User" as const,
      flags: { importUuid: UUID },
      json: JSON.stringify([user(3, "u1"), user(7, "u2")]),
      minOrdinal: 1,
    };
    const first = await importByModel(store, { ...args, pkMap: new PrimaryKeyMap() });
    expect(first.entries("sentry.user")).toEqual([
      [3, { pk: 1, kind: "Inserted", slug: null }],
      [7, { pk: 2, kind: "Inserted", slug: null }],
    ]);
    const after = await snapshot(store, TABLES);
    const second = await importByModel(store, { ...args, pkMap: new PrimaryKeyMap() });
    expect(await snapshot(store, TABLES)).toBe(after);
    expect(second.entries("sentry.user")).toEqual(first.entries("sentry.user"));
    expect(await count(store, "auth_user")).toBe(2);
    expect(await count(store, "sentry_controlimportchunk")).toBe(1);
    // Another min_ordinal is another chunk: it is written.
    await importByModel(store, { ...args, minOrdinal: 21, pkMap: new PrimaryKeyMap() });
    expect(await count(store, "auth_user")).toBe(4);
  });

  it("importByModel writes each new user's primary address rows with the batch, and a repeated batch none", async () => {
    const args = {
      model: "sentry.user",
      scope: "User" as const,
      flags: { importUuid: UUID },
      json: JSON.stringify([user(3, "u1"), user(7, "u2", { email: "U1@example.com" })]),
      minOrdinal: 1,
    };
    const first = await importByModel(store, { ...args, pkMap: new PrimaryKeyMap() });
    const pks = first.entries("sentry.user").map(([, e]) => e.pk);
    const addresses = async () =>
      (await rows(store, "sentry_useremail")).map((e) => [Number(e.user_id), e.email]);
    expect(await addresses()).toEqual([
      [pks[0], "u1@example.com"],
      [pks[1], "U1@example.com"],
    ]);
    expect((await rows(store, "sentry_email")).map((e) => e.email)).toEqual(["u1@example.com"]);
    await importByModel(store, { ...args, pkMap: new PrimaryKeyMap() });
    expect(await count(store, "sentry_useremail")).toBe(2);
    expect(await count(store, "sentry_email")).toBe(1);
  });

  it("#37 a batch whose every instance is filtered out returns an empty mapping and writes no ImportChunk (relo's importByModel returns only the mapping)", async () => {
    const args = {
      model: "sentry.user",
      scope: "User" as const,
      flags: { importUuid: UUID },
      json: JSON.stringify([user(3, "u1"), user(7, "u2")]),
      minOrdinal: 1,
    };
    const filtered = await importByModel(store, {
      ...args,
      filters: [{ model: "sentry.user", field: "username", values: new Set<string | number>(["nobody"]) }],
      pkMap: new PrimaryKeyMap(),
    });
    expect(filtered.entries("sentry.user")).toEqual([]);
    expect(await count(store, "auth_user")).toBe(0);
    expect(await count(store, "sentry_controlimportchunk")).toBe(0);
    expect(await count(store, "sentry_controlimportchunkreplica")).toBe(0);
    // Nothing was cached: the same batch without the filter is imported.
    const unfiltered = await importByModel(store, { ...args, pkMap: new PrimaryKeyMap() });
    expect(unfiltered.size("sentry.user")).toBe(2);
    expect(await count(store, "auth_user")).toBe(2);
  });

  it("#38 after a successful batch the ImportChunk has max_ordinal = min_ordinal - 1 + rows written", async () => {
    await importByModel(store, {
      model: "sentry.user",
      scope: "User",
      flags: { importUuid: UUID },
      json: JSON.stringify([user(9, "a"), user(null, "b"), user(4, "c")]),
      minOrdinal: 21,
      pkMap: new PrimaryKeyMap(),
    });
    const expected = {
      importUuid: UUID,
      model: "sentry.user",
      minOrdinal: 21,
      maxOrdinal: 22,
      // Sentry's bookkeeping: the first written source pk, not the smallest.
      minSourcePk: 9,
      maxSourcePk: 9,
      minInsertedPk: 1,
      maxInsertedPk: 2,
      insertedMap: { 9: 1, 4: 2 },
      existingMap: {},
      overwriteMap: {},
      insertedIdentifiers: {},
    };
    expect(await chunks(store, "sentry_controlimportchunk")).toEqual([expected]);
    expect(await chunks(store, "sentry_controlimportchunkreplica")).toEqual([expected]);
  });

  it("#38 a region model's chunk records slugs of inserted rows as identifiers", async () => {
    await importFile(store, writeExport([org(5, "acme"), org(6, "beta")]), { scope: "Organization" });
    const [chunk] = await chunks(store, "sentry_regionimportchunk");
    expect(chunk).toMatchObject({
      model: "sentry.organization",
      minOrdinal: 1,
      maxOrdinal: 2,
      insertedMap: { 5: 1, 6: 2 },
      insertedIdentifiers: { 5: "acme", 6: "beta" },
    });
  });

  it("#39 after inserting rows the id sequence continues after MAX(id), so a native insert does not collide", async () => {
    // Global scope keeps project ids, so the ids are not taken from the sequence.
    await importFile(store, writeExport([org(1, "acme"), project(7, 1, "seven"), project(9, 1, "nine")]), {
      scope: "Global",
    });
    expect((await rows(store, "sentry_project")).map((p) => Number(p.id))).toEqual([7, 9]);
    const [orgRow] = await rows(store, "sentry_organization");
    await store.db
      .insertInto("sentry_project")
      .values({
        slug: "native",
        name: "Native",
        organization_id: orgRow.id,
        public: kind === "sqlite" ? 0 : false,
        date_added: "2024-01-01T00:00:00.000Z",
        status: 0,
        flags: 10,
      })
      .execute();
    const native = await store.db
      .selectFrom("sentry_project")
      .select("id")
      .where("slug", "=", "native")
      .executeTakeFirstOrThrow();
    expect(Number(native.id)).toBe(10);
  });

  it("#40 a Global import deletes the rows of every relocatable table and restarts ids at 1", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    await importFile(store, writeExport([option(1, "extra")]), { scope: "Config" });
    expect(await count(store, "auth_user")).toBe(6);
    const { importUuid } = await importFile(store, fixture("user-with-minimum-privileges.json"), {
      scope: "Global",
    });
    const users = await rows(store, "auth_user");
    expect(users.map((u) => [Number(u.id), u.username])).toEqual([[1, "min_user"]]);
    for (const table of [
      "sentry_organization",
      "sentry_organizationmember",
      "sentry_project",
      "sentry_projectkey",
      "sentry_team",
      "sentry_option",
      "sentry_organizationslugreservation",
      "sentry_lostpasswordhash",
    ]) {
      expect(await count(store, table), table).toBe(0);
    }
    expect((await rows(store, "sentry_useremail")).map((e) => [Number(e.id), e.email])).toEqual([
      [1, "testing@example.com"],
    ]);
    expect((await rows(store, "sentry_email")).map((e) => [Number(e.id), e.email])).toEqual([
      [1, "testing@example.com"],
    ]);
    expect((await rows(store, "auth_authenticator")).map((a) => Number(a.id))).toEqual([1]);
    expect((await rows(store, "sentry_userip")).map((a) => Number(a.id))).toEqual([1]);
    const control = await chunks(store, "sentry_controlimportchunk");
    expect(control.length).toBeGreaterThan(0);
    expect(new Set(control.map((c) => c.importUuid))).toEqual(new Set([importUuid]));
  });

  it("#42 sentry.actor entries (even consecutive ones) are removed and a sentry.team's actor field is ignored", async () => {
    const actor = (pk: number) => ({
      model: "sentry.actor",
      pk,
      fields: { type: 0, user_id: null, team: 1 },
    });
    const path = writeExport([
      org(1, "acme"),
      actor(1),
      actor(2),
      {
        model: "sentry.team",
        pk: 1,
        fields: { organization: 1, slug: "core", name: "Core", status: 0, actor: 1, org_role: "admin" },
      },
    ]);
    const { stats } = await importFile(store, path, { scope: "Organization" });
    const teams = await rows(store, "sentry_team");
    expect(teams.map((t) => [t.slug, t.name])).toEqual([["core", "Core"]]);
    expect(teams[0]).not.toHaveProperty("actor_id");
    expect([...stats.models.keys()]).not.toContain("sentry.actor");
  });
});
