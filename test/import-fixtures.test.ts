/**
 * Every shared Sentry fixture imports in every scope it applies to, with asserted counts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ImportingError } from "../src/backup/errors.js";
import { registry } from "../src/models/registry.js";
import type { Scope } from "../src/models/types.js";
import { fromDb } from "../src/store/codec.js";
import type { Store } from "../src/store/types.js";
import { type DbKind, describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, FIXTURES, fixture, importFile, rows, writeExport } from "./helpers/import.js";

describeEachDb("fresh-install.json", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
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
    expect(users.map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
  });

  it("imports in Global scope, keeping passwords", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    expect(await count(store, "sentry_option")).toBe(4);
    expect(await count(store, "auth_authenticator")).toBe(2);
    const users = await rows(store, "auth_user");
    expect(users[0].password).toMatch(/^pbkdf2_sha256\$150000\$iEvdIknqYjTr\$\+QsGn0/);
  });
});

// Every fixture in every scope.

const SCOPES: Scope[] = ["User", "Organization", "Config", "Global"];

/** Import chunks record how an import was batched; the counts below cover every other table. */
const CHUNK_TABLES = new Set([
  "sentry_regionimportchunk",
  "sentry_controlimportchunk",
  "sentry_controlimportchunkreplica",
]);

/** Row counts of every non-empty table except the import chunks. */
async function tableCounts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const model of registry.ordered) {
    if (CHUNK_TABLES.has(model.table)) continue;
    const n = await count(store, model.table);
    if (n > 0) out[model.table] = n;
  }
  return out;
}

/** Tables that hold any row, import chunks included. */
async function nonEmptyTables(store: Store): Promise<string[]> {
  const out: string[] = [];
  for (const model of registry.ordered) if ((await count(store, model.table)) > 0) out.push(model.table);
  return out;
}

/** A model's rows, by id, with every field decoded from its database form (as an export has it). */
async function decoded(store: Store, modelName: string): Promise<Record<string, any>[]> {
  const model = registry.get(modelName)!;
  return (await rows(store, model.table)).map((row) => {
    const out: Record<string, any> = { id: Number(row.id) };
    for (const field of model.fields) out[field.name] = fromDb(field, row[field.column]);
    return out;
  });
}

/** The error an import fails with; it must be an ImportingError. */
async function failureOf(result: Promise<unknown>): Promise<ImportingError> {
  try {
    await result;
  } catch (err) {
    expect(err).toBeInstanceOf(ImportingError);
    return err as ImportingError;
  }
  throw new Error("the import succeeded");
}

/** A fresh store per test, on the given database kind. */
function storePerTest(kind: DbKind): () => Store {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });
  return () => store;
}

const keepsAdminFlags = (scope: Scope) => scope === "Config" || scope === "Global";

/** The fixtures these tests import; a new fixture file must be added here, and tested. */
const COVERED_FIXTURES = [
  "app-user-with-empty-email.json",
  "datetime-with-zeroed-millis.json",
  "fresh-install.json",
  "invalid-user.json",
  "single-integration.json",
  "single-option.json",
  "user-with-minimum-privileges.json",
  "user-with-roles-no-superadmin.json",
  "user-with-superadmin-no-roles.json",
];

describe("shared fixtures", () => {
  it("every fixture file is covered", () => {
    expect(
      readdirSync(FIXTURES)
        .filter((f) => f.endsWith(".json"))
        .sort(),
    ).toEqual(COVERED_FIXTURES);
  });
});

const FRESH_USERS = { auth_user: 3, sentry_email: 3, sentry_useremail: 3 };
const FRESH_ORGANIZATION = {
  sentry_organization: 1,
  sentry_organizationslugreservation: 1,
  sentry_organizationmember: 3,
  sentry_team: 1,
  sentry_organizationmember_teams: 2,
  sentry_project: 1,
  sentry_projectteam: 1,
  sentry_projectkey: 1,
  sentry_projectoptions: 2,
  sentry_rule: 1,
};
const FRESH_CONFIG = {
  sentry_option: 4,
  sentry_relay: 1,
  sentry_relayusage: 1,
  sentry_userrole: 1,
  sentry_userrole_users: 2,
};
const FRESH_INSTALL: Record<Scope, Record<string, number>> = {
  User: { ...FRESH_USERS, sentry_lostpasswordhash: 3 },
  Organization: { ...FRESH_USERS, sentry_lostpasswordhash: 3, ...FRESH_ORGANIZATION },
  Config: { ...FRESH_USERS, sentry_lostpasswordhash: 3, ...FRESH_CONFIG },
  Global: {
    ...FRESH_USERS,
    ...FRESH_ORGANIZATION,
    ...FRESH_CONFIG,
    auth_authenticator: 2,
    sentry_apiapplication: 1,
  },
};

describeEachDb("fresh-install.json in every scope", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("imports in %s scope", async (scope) => {
    const { stats } = await importFile(store(), fixture("fresh-install.json"), { scope });
    expect(await tableCounts(store())).toEqual(FRESH_INSTALL[scope]);
    expect(stats.of("sentry.apiapplication").dropped).toEqual(
      scope === "Global" ? {} : { "out of scope": 1 },
    );

    // All three users are staff and superusers in the export.
    const users = await decoded(store(), "sentry.user");
    expect(users.map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
    const exported: string[] = JSON.parse(readFileSync(fixture("fresh-install.json"), "utf8"))
      .filter((e: { model: string }) => e.model === "sentry.user")
      .map((e: { fields: { password: string } }) => e.fields.password);
    users.forEach((u, i) => {
      expect(u.is_staff).toBe(keepsAdminFlags(scope));
      expect(u.is_superuser).toBe(keepsAdminFlags(scope));
      expect(u.is_managed).toBe(false);
      expect(u.is_unclaimed).toBe(scope !== "Global");
      // Outside Global scope nobody can log in with the exported password.
      if (scope === "Global") expect(u.password).toBe(exported[i]);
      else expect(exported).not.toContain(u.password);
    });

    // Only superadmin@example.com's address is verified in the export.
    const verified = Object.fromEntries(
      (await decoded(store(), "sentry.useremail")).map((e) => [e.email, e.is_verified]),
    );
    expect(verified).toEqual({
      "admin@example.com": false,
      "member@example.com": false,
      "superadmin@example.com": scope === "Global",
    });
  });
});

const ONE_USER = { auth_user: 1, sentry_email: 1, sentry_useremail: 1, sentry_useroption: 1 };
const ONE_USER_IN: Record<Scope, Record<string, number>> = {
  User: { ...ONE_USER, sentry_lostpasswordhash: 1 },
  Organization: { ...ONE_USER, sentry_lostpasswordhash: 1 },
  Config: { ...ONE_USER, sentry_lostpasswordhash: 1 },
  Global: { ...ONE_USER, sentry_userip: 1, auth_authenticator: 1 },
};

describeEachDb("user-with-minimum-privileges.json", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("imports in %s scope", async (scope) => {
    const { stats } = await importFile(store(), fixture("user-with-minimum-privileges.json"), { scope });
    expect(await tableCounts(store())).toEqual(ONE_USER_IN[scope]);
    const outOfScope = scope === "Global" ? {} : { "out of scope": 1 };
    expect(stats.of("sentry.userip").dropped).toEqual(outOfScope);
    expect(stats.of("sentry.authenticator").dropped).toEqual(outOfScope);
    const [u] = await decoded(store(), "sentry.user");
    expect(u).toMatchObject({
      username: "min_user",
      email: "testing@example.com",
      is_staff: false,
      is_superuser: false,
    });
    const [option] = await decoded(store(), "sentry.useroption");
    expect(option).toMatchObject({ user: u.id, key: "timezone", project_id: null, organization_id: null });
    const [address] = await decoded(store(), "sentry.useremail");
    expect(address).toMatchObject({
      user: u.id,
      email: "testing@example.com",
      is_verified: scope === "Global",
    });
  });
});

describeEachDb("user-with-superadmin-no-roles.json", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("imports in %s scope", async (scope) => {
    await importFile(store(), fixture("user-with-superadmin-no-roles.json"), { scope });
    expect(await tableCounts(store())).toEqual(ONE_USER_IN[scope]);
    const [u] = await decoded(store(), "sentry.user");
    expect(u.username).toBe("superadmin_no_roles_user");
    // Staff and superuser in the export: kept only where instance admins are imported.
    expect(u.is_staff).toBe(keepsAdminFlags(scope));
    expect(u.is_superuser).toBe(keepsAdminFlags(scope));
    expect(u.is_unclaimed).toBe(scope !== "Global");
    const [address] = await decoded(store(), "sentry.useremail");
    expect(address.is_verified).toBe(scope === "Global");
    if (scope === "Global") {
      const [ip] = await decoded(store(), "sentry.userip");
      expect(ip).toMatchObject({
        user: u.id,
        ip_address: "127.0.0.2",
        first_seen: "2012-04-05T03:29:45.000Z",
      });
    }
  });
});

describeEachDb("user-with-roles-no-superadmin.json", (kind) => {
  const store = storePerTest(kind);

  // Its sentry.userroleuser points at role pk 1, which is not in the file.
  it.each(["User", "Organization"] as const)(
    "imports in %s scope, where the role link is out of scope",
    async (scope) => {
      const { stats } = await importFile(store(), fixture("user-with-roles-no-superadmin.json"), { scope });
      expect(await tableCounts(store())).toEqual(ONE_USER_IN[scope]);
      expect(stats.of("sentry.userroleuser").dropped).toEqual({ "out of scope": 1 });
      expect(stats.of("sentry.userrole").dropped).toEqual({ "out of scope": 1 });
      expect(stats.of("sentry.userpermission").dropped).toEqual({ "out of scope": 1 });
      const [u] = await decoded(store(), "sentry.user");
      expect(u).toMatchObject({ username: "roles_no_superadmin_user", is_staff: false, is_superuser: false });
    },
  );

  it.each(["Config", "Global"] as const)(
    "fails in %s scope on the role link to a role not in the file",
    async (scope) => {
      const err = await failureOf(
        importFile(store(), fixture("user-with-roles-no-superadmin.json"), { scope }),
      );
      expect(err.finding.kind).toBe("ValidationError");
      expect(err.finding.on.model).toBe("sentry.userroleuser");
      expect(err.finding.left_pk).toBe(3);
      expect(err.finding.reason).toContain("not in the export before it");
      expect(err.message).toContain("sentry.userroleuser");
      expect(await nonEmptyTables(store())).toEqual([]);
    },
  );
});

describeEachDb("app-user-with-empty-email.json", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("imports in %s scope with an empty email", async (scope) => {
    await importFile(store(), fixture("app-user-with-empty-email.json"), { scope });
    const expected: Record<string, number> = { auth_user: 1, sentry_email: 1, sentry_useremail: 1 };
    if (scope !== "Global") expected.sentry_lostpasswordhash = 1;
    expect(await tableCounts(store())).toEqual(expected);
    const [u] = await decoded(store(), "sentry.user");
    expect(u).toMatchObject({
      username: "test_app-afcf782e-428d-475a-bb6f-d81b72505f6d",
      email: "",
      is_sentry_app: true,
      is_unclaimed: true,
    });
    expect((await decoded(store(), "sentry.email")).map((e) => e.email)).toEqual([""]);
    const [address] = await decoded(store(), "sentry.useremail");
    expect(address).toMatchObject({ user: u.id, email: "", is_verified: false });
  });
});

describeEachDb("invalid-user.json", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("fails in %s scope and writes nothing", async (scope) => {
    const err = await failureOf(importFile(store(), fixture("invalid-user.json"), { scope }));
    expect(["DeserializationFailed", "ValidationError"]).toContain(err.finding.kind);
    expect(err.finding.finding).toBe("RpcImportError");
    expect(err.finding.on).toEqual({ model: "sentry.user", ordinal: 1 });
    expect(await nonEmptyTables(store())).toEqual([]);
  });
});

for (const name of ["single-option.json", "datetime-with-zeroed-millis.json"]) {
  describeEachDb(name, (kind) => {
    const store = storePerTest(kind);

    it.each(SCOPES)("imports in %s scope", async (scope) => {
      const { stats } = await importFile(store(), fixture(name), { scope });
      if (!keepsAdminFlags(scope)) {
        expect(await tableCounts(store())).toEqual({});
        expect(stats.of("sentry.option").dropped).toEqual({ "out of scope": 1 });
        return;
      }
      expect(await tableCounts(store())).toEqual({ sentry_option: 1 });
      const [option] = await decoded(store(), "sentry.option");
      expect(option).toMatchObject({
        key: "sentry:latest_version",
        last_updated_by: "unknown",
        value: '"23.6.1"',
      });
      // Zeroed milliseconds keep their instant.
      expect(option.last_updated).toBe("2023-06-22T00:00:00.000Z");
      const [raw] = await rows(store(), "sentry_option");
      expect(new Date(raw.last_updated).getTime()).toBe(Date.UTC(2023, 5, 22));
    });
  });
}

describeEachDb("single-integration.json", (kind) => {
  const store = storePerTest(kind);

  it.each(SCOPES)("imports in %s scope", async (scope) => {
    const { stats } = await importFile(store(), fixture("single-integration.json"), { scope });
    if (scope !== "Global") {
      expect(await tableCounts(store())).toEqual({});
      expect(stats.of("sentry.integration").dropped).toEqual({ "out of scope": 1 });
      return;
    }
    expect(await tableCounts(store())).toEqual({ sentry_integration: 1 });
    const [integration] = await decoded(store(), "sentry.integration");
    expect(integration).toMatchObject({
      provider: "slack",
      external_id: "slack:test-org",
      name: "Slack for test-org",
      status: 0,
      date_added: "2023-06-22T00:00:00.000Z",
      date_updated: "2023-06-23T00:00:00.000Z",
    });
  });
});

// The three user fixtures combined, as Sentry's tests do: sorted by sorted.json order, then pk.

const USER_FIXTURES = [
  "user-with-minimum-privileges.json",
  "user-with-roles-no-superadmin.json",
  "user-with-superadmin-no-roles.json",
];

function combinedUsers(): { model: string; pk: number; fields: Record<string, unknown> }[] {
  const order: string[] = JSON.parse(readFileSync(join(FIXTURES, "model_dependencies/sorted.json"), "utf8"));
  const entries = USER_FIXTURES.flatMap((f) => JSON.parse(readFileSync(fixture(f), "utf8")));
  return entries.sort((a, b) => order.indexOf(a.model) - order.indexOf(b.model) || a.pk - b.pk);
}

const COMBINED_USERS = { auth_user: 3, sentry_email: 1, sentry_useremail: 3, sentry_useroption: 3 };

describeEachDb("the three user fixtures combined", (kind) => {
  const store = storePerTest(kind);

  it.each(["User", "Organization"] as const)(
    "import in %s scope with one Email row per address",
    async (scope) => {
      await importFile(store(), writeExport(combinedUsers()), { scope });
      expect(await tableCounts(store())).toEqual({ ...COMBINED_USERS, sentry_lostpasswordhash: 3 });
      const users = await decoded(store(), "sentry.user");
      expect(users.map((u) => u.username)).toEqual([
        "min_user",
        "roles_no_superadmin_user",
        "superadmin_no_roles_user",
      ]);
      expect(users.map((u) => u.is_superuser)).toEqual([false, false, false]);
      expect((await decoded(store(), "sentry.email")).map((e) => e.email)).toEqual(["testing@example.com"]);
    },
  );

  // Sentry's tests add user-with-maximum-privileges.json, which holds role pk 1; it is not shared.
  it.each(["Config", "Global"] as const)("fail in %s scope on the link to role pk 1", async (scope) => {
    const err = await failureOf(importFile(store(), writeExport(combinedUsers()), { scope }));
    expect(err.finding.kind).toBe("ValidationError");
    expect(err.finding.on.model).toBe("sentry.userroleuser");
    expect(await nonEmptyTables(store())).toEqual([]);
  });

  it("import in Global scope without that link, with one Email row per address", async () => {
    const entries = combinedUsers().filter((e) => e.model !== "sentry.userroleuser");
    await importFile(store(), writeExport(entries), { scope: "Global" });
    expect(await tableCounts(store())).toEqual({
      ...COMBINED_USERS,
      sentry_userip: 3,
      auth_authenticator: 3,
      sentry_userpermission: 1,
      sentry_userrole: 1,
    });
    const users = await decoded(store(), "sentry.user");
    const emails = new Set(users.map((u) => u.email));
    expect((await decoded(store(), "sentry.email")).map((e) => e.email)).toEqual([...emails]);
    expect(users.map((u) => [u.username, u.is_staff, u.is_superuser])).toEqual([
      ["min_user", false, false],
      ["roles_no_superadmin_user", false, false],
      ["superadmin_no_roles_user", true, true],
    ]);
    expect((await decoded(store(), "sentry.useremail")).map((e) => e.is_verified)).toEqual([
      true,
      true,
      true,
    ]);
    const [permission] = await decoded(store(), "sentry.userpermission");
    expect(permission).toMatchObject({ user: users[1].id, permission: "users.admin" });
  });
});

/** Fixtures that cannot import in Global scope on their own (tested above). */
const NOT_STANDALONE = new Set(["invalid-user.json", "user-with-roles-no-superadmin.json"]);

describeEachDb("every fixture in Global scope", (kind) => {
  const store = storePerTest(kind);

  it.each(COVERED_FIXTURES.filter((f) => !NOT_STANDALONE.has(f)))(
    "%s: every model is defined and every row written",
    async (name) => {
      const exported: { model: string }[] = JSON.parse(readFileSync(fixture(name), "utf8"));
      for (const e of exported) expect(registry.has(e.model), e.model).toBe(true);
      const { stats } = await importFile(store(), fixture(name), { scope: "Global" });
      for (const model of new Set(exported.map((e) => e.model))) {
        const s = stats.of(model);
        expect(s.dropped, model).toEqual({});
        expect(s.inserted + s.existing + s.overwritten, model).toBe(
          exported.filter((e) => e.model === model).length,
        );
      }
    },
  );
});
