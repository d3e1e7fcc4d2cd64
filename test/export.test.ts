/**
 * `relo export`: Sentry's exact layout, model and pk order, scopes and filters, and the rule that
 * a row whose foreign key points at a row not exported is not exported either
 * (export-crypto-compare.md §2 and conformance items 20-32).
 */
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { dependencyOrder, registry } from "../src/models/registry.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { entries, exportText } from "./helpers/export.js";
import { fixture, importFile, writeExport } from "./helpers/import.js";

const TWO_ORGS = resolve(import.meta.dirname, "../examples/two-orgs.json");

const user = (pk: number, username: string, extra: Record<string, unknown> = {}) => ({
  model: "sentry.user",
  pk,
  fields: { username, email: `${username}@example.com`, password: "x", name: username, ...extra },
});
const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const member = (pk: number, orgPk: number, userPk: number | null, extra: Record<string, unknown> = {}) => ({
  model: "sentry.organizationmember",
  pk,
  fields: {
    organization: orgPk,
    user_id: userPk,
    role: "member",
    email: userPk ? null : `invite${pk}@example.com`,
    ...extra,
  },
});

describeEachDb("export", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("an empty database exports []", async () => {
    await store.migrate();
    expect(await exportText(store, { scope: "Global" })).toBe("[]");
  });

  it("writes Python's json.dump layout: 2-space indent, `, `-free separators, no trailing newline", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const text = await exportText(store, { scope: "Global" });
    expect(
      text.startsWith('[\n  {\n    "model": "sentry.option",\n    "pk": 1,\n    "fields": {\n      "key": '),
    ).toBe(true);
    expect(text.endsWith("\n    }\n  }\n]")).toBe(true);
    for (const line of text.split("\n")) expect(line).not.toMatch(/ +$/);
    expect(text).toContain('"last_updated": "2023-06-27T21:40:01.305Z"');
    expect(text).toContain('"value": 1687902001.2623305');
    expect(text).toContain('"flags": "1"');
    const parsed = entries(text);
    for (const e of parsed) expect(Object.keys(e)).toEqual(["model", "pk", "fields"]);
  });

  it("--indent changes the layout, not the data", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const four = await exportText(store, { scope: "Global", indent: 4 });
    const zero = await exportText(store, { scope: "Global", indent: 0 });
    expect(four).toContain('\n    {\n        "model": ');
    expect(zero).toContain('\n{\n"model": ');
    expect(entries(four)).toEqual(entries(await exportText(store, { scope: "Global" })));
    expect(entries(zero)).toEqual(entries(four));
  });

  it("lists models in dependency order and rows by ascending pk; fields in declaration order", async () => {
    await importFile(store, TWO_ORGS, { scope: "Global" });
    const list = entries(await exportText(store, { scope: "Global" }));
    const order = dependencyOrder(registry.ordered);
    const models = [...new Set(list.map((e) => e.model))];
    expect(models).toEqual(order.filter((m) => models.includes(m)));
    for (const m of models) {
      const pks = list.filter((e) => e.model === m).map((e) => e.pk);
      expect(pks).toEqual([...pks].sort((a, b) => a - b));
      const def = registry.get(m)!;
      for (const e of list.filter((x) => x.model === m)) {
        expect(Object.keys(e.fields)).toEqual(def.fields.map((f) => f.name));
      }
    }
  });

  it("escapes non-ASCII as \\uXXXX (surrogate pairs beyond the BMP) and keeps number text", async () => {
    await importFile(
      store,
      writeExport(
        '[{"model": "sentry.option", "pk": 1, "fields": {"key": "caf\\u00e9 \\ud83d\\ude00 \\u007f /", ' +
          '"last_updated": "2023-01-01T00:00:00.999999Z", "last_updated_by": "unknown", ' +
          '"value": {"a": 100.0, "b": 1e+16, "c": 1.5e-07, "d": 12345678901234567890, "e": -0.0}}}]',
      ),
      { scope: "Global" },
    );
    const text = await exportText(store, { scope: "Global" });
    expect(text).toContain('"key": "caf\\u00e9 \\ud83d\\ude00 \\u007f /"');
    expect(text).toContain('"last_updated": "2023-01-01T00:00:00.999Z"');
    expect(text).toContain('"a": 100.0');
    expect(text).toContain('"b": 1e+16');
    expect(text).toContain('"c": 1.5e-07');
    expect(text).toContain('"d": 12345678901234567890');
    expect(text).toContain('"e": -0.0');
  });

  it("Organization scope with --filter-org-slugs: that org, its members' users, nothing dangling", async () => {
    await importFile(store, TWO_ORGS, { scope: "Global" });
    const list = entries(
      await exportText(store, {
        scope: "Organization",
        filterBy: { model: "sentry.organization", field: "slug", values: new Set(["org-1"]) },
      }),
    );
    const orgs = list.filter((e) => e.model === "sentry.organization");
    expect(orgs.map((o) => o.fields.slug)).toEqual(["org-1"]);
    const users = list.filter((e) => e.model === "sentry.user").map((e) => e.fields.username);
    expect(users).toEqual(["user0@org1.example.com", "user1@org1.example.com", "user2@org1.example.com"]);
    // Every foreign key points at a row in the export.
    const present = new Set(list.map((e) => `${e.model}:${e.pk}`));
    for (const e of list) {
      for (const f of registry.get(e.model)!.fields) {
        const v = e.fields[f.name];
        if (f.fk && v !== null && !f.clearIfUnmapped) expect(present.has(`${f.fk.model}:${v}`)).toBe(true);
      }
    }
    expect(list.filter((e) => e.model === "sentry.projectkey")).toHaveLength(4);
    expect(list.some((e) => e.model === "sentry.option")).toBe(false);
  });

  it("User scope with --filter-usernames exports those users and their rows only", async () => {
    await importFile(store, TWO_ORGS, { scope: "Global" });
    const list = entries(
      await exportText(store, {
        scope: "User",
        filterBy: { model: "sentry.user", field: "username", values: new Set(["user1@org0.example.com"]) },
      }),
    );
    expect(new Set(list.map((e) => e.model))).toEqual(
      new Set(["sentry.user", "sentry.email", "sentry.useremail"]),
    );
    expect(list.filter((e) => e.model === "sentry.email").map((e) => e.fields.email)).toEqual([
      "user1@org0.example.com",
    ]);
    expect(list.filter((e) => e.model === "sentry.useremail").map((e) => e.fields.user)).toEqual([2]);
  });

  it("Config scope exports options and only the administrators", async () => {
    await importFile(
      store,
      writeExport([
        user(1, "plain"),
        user(2, "staff", { is_staff: true }),
        user(3, "root", { is_superuser: true }),
        user(4, "permitted"),
        user(5, "roled"),
        { model: "sentry.userpermission", pk: 1, fields: { user: 4, permission: "broadcasts.admin" } },
        { model: "sentry.userrole", pk: 1, fields: { name: "Admin", permissions: ["users.admin"] } },
        { model: "sentry.userroleuser", pk: 1, fields: { user: 5, role: 1 } },
        {
          model: "sentry.option",
          pk: 1,
          fields: { key: "sentry:install-id", value: '"abc"', last_updated: "2023-01-01T00:00:00Z" },
        },
        {
          model: "sentry.option",
          pk: 2,
          fields: { key: "mail.from", value: '"root@example.com"', last_updated: "2023-01-01T00:00:00Z" },
        },
      ]),
      { scope: "Global" },
    );
    const list = entries(await exportText(store, { scope: "Config" }));
    const users = list.filter((e) => e.model === "sentry.user").map((e) => e.fields.username);
    expect(users).toEqual(["staff", "root", "permitted", "roled"]);
    // Volatile options stay out of scoped exports, as in Sentry; Global keeps them.
    expect(list.filter((e) => e.model === "sentry.option").map((e) => e.fields.key)).toEqual(["mail.from"]);
    const global = entries(await exportText(store, { scope: "Global" }));
    expect(global.filter((e) => e.model === "sentry.option")).toHaveLength(2);
  });

  it("drops rows whose foreign key targets a row that was not exported, in every scope", async () => {
    await importFile(
      store,
      writeExport([
        user(1, "a"),
        user(2, "b"),
        org(1, "one"),
        org(2, "two"),
        member(1, 1, 1),
        member(2, 2, 2),
        { model: "sentry.team", pk: 1, fields: { organization: 1, slug: "t1", name: "t1" } },
        { model: "sentry.team", pk: 2, fields: { organization: 2, slug: "t2", name: "t2" } },
        { model: "sentry.organizationmemberteam", pk: 1, fields: { organizationmember: 1, team: 1 } },
        { model: "sentry.organizationmemberteam", pk: 2, fields: { organizationmember: 2, team: 2 } },
      ]),
      { scope: "Global" },
    );
    const list = entries(
      await exportText(store, {
        scope: "Organization",
        filterBy: { model: "sentry.organization", field: "slug", values: new Set(["two"]) },
      }),
    );
    const of = (m: string) => list.filter((e) => e.model === m).map((e) => e.pk);
    expect(of("sentry.organization")).toEqual([2]);
    expect(of("sentry.user")).toEqual([2]);
    expect(of("sentry.organizationmember")).toEqual([2]);
    expect(of("sentry.team")).toEqual([2]);
    expect(of("sentry.organizationmemberteam")).toEqual([2]);
    // A member pointing at a user that does not exist (hybrid keys have no constraint) is dropped
    // in Global scope too, and so is its team membership, transitively.
    await store.db
      .updateTable("sentry_organizationmember")
      .set({ user_id: 99 })
      .where("id", "=", 1)
      .execute();
    const global = entries(await exportText(store, { scope: "Global" }));
    expect(global.filter((e) => e.model === "sentry.organizationmember").map((e) => e.pk)).toEqual([2]);
    expect(global.filter((e) => e.model === "sentry.organizationmemberteam").map((e) => e.pk)).toEqual([2]);
  });

  it("keeps a member whose inviter is not exported (Sentry's own exception)", async () => {
    await importFile(
      store,
      writeExport([
        user(1, "inviter"),
        user(2, "invited"),
        org(1, "one"),
        org(2, "two"),
        member(1, 1, 1),
        member(2, 2, 2, { inviter_id: 1 }),
      ]),
      { scope: "Global" },
    );
    const list = entries(
      await exportText(store, {
        scope: "Organization",
        filterBy: { model: "sentry.organization", field: "slug", values: new Set(["two"]) },
      }),
    );
    const members = list.filter((e) => e.model === "sentry.organizationmember");
    expect(members.map((m) => [m.pk, m.fields.inviter_id])).toEqual([[2, 1]]);
    expect(list.filter((e) => e.model === "sentry.user").map((e) => e.pk)).toEqual([2]);
  });

  it("an unknown org slug exports no organization rows and no users", async () => {
    await importFile(store, TWO_ORGS, { scope: "Global" });
    const list = entries(
      await exportText(store, {
        scope: "Organization",
        filterBy: { model: "sentry.organization", field: "slug", values: new Set(["nope"]) },
      }),
    );
    expect(
      list.filter((e) => ["sentry.organization", "sentry.user", "sentry.project"].includes(e.model)),
    ).toEqual([]);
  });
});
