/**
 * Conformance checklist (spec/import.md §16) items 8-21: users, emails and what hangs off them;
 * plus --merge-users and --overwrite-configs cases.
 */
import { pbkdf2Sync } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ImportingError } from "../src/backup/errors.js";
import { registry } from "../src/models/registry.js";
import type { Scope } from "../src/models/types.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile, rows, snapshot, writeExport } from "./helpers/import.js";

/** A Django pbkdf2_sha256 hash, so tests can tell whether a stored hash still verifies. */
function djangoHash(password: string, salt: string, iterations = 1000): string {
  const hash = pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("base64");
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
}

function verifies(password: string, encoded: string): boolean {
  const [algo, iterations, salt, hash] = encoded.split("$");
  if (algo !== "pbkdf2_sha256") return false;
  return pbkdf2Sync(password, salt, Number(iterations), 32, "sha256").toString("base64") === hash;
}

const PASSWORD = "correct horse battery staple";
const HASH = djangoHash(PASSWORD, "knownsalt");

/** SQLite stores booleans as 0/1, PostgreSQL as booleans. */
const bool = (v: unknown) => v === true || v === 1;

type Fields = Record<string, unknown>;

const user = (pk: number, username: string, fields: Fields = {}) => ({
  model: "sentry.user",
  pk,
  fields: {
    password: HASH,
    username,
    name: username,
    email: `${username.toLowerCase()}@example.com`,
    ...fields,
  },
});
const email = (pk: number, address: string, fields: Fields = {}) => ({
  model: "sentry.email",
  pk,
  fields: { email: address, date_added: "2020-01-01T00:00:00.000Z", ...fields },
});
const userEmail = (pk: number, userPk: number, address: string, fields: Fields = {}) => ({
  model: "sentry.useremail",
  pk,
  fields: { user: userPk, email: address, validation_hash: "V".repeat(32), is_verified: true, ...fields },
});
const userIp = (pk: number, userPk: number, ip: string) => ({
  model: "sentry.userip",
  pk,
  fields: {
    user: userPk,
    ip_address: ip,
    first_seen: "2012-04-05T03:29:45.000Z",
    last_seen: "2012-04-05T03:29:45.000Z",
  },
});
const userPermission = (pk: number, userPk: number, permission: string) => ({
  model: "sentry.userpermission",
  pk,
  fields: { user: userPk, permission },
});
const userRole = (pk: number, name: string, permissions: string[]) => ({
  model: "sentry.userrole",
  pk,
  fields: { name, permissions },
});
const userRoleUser = (pk: number, userPk: number, rolePk: number) => ({
  model: "sentry.userroleuser",
  pk,
  fields: { user: userPk, role: rolePk },
});

const ALL_TABLES = registry.ordered.map((m) => m.table);

describeEachDb("users", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  /** Imports a file holding user `alice` (pk 1) in Organization scope, as the "existing" alice. */
  async function existingAlice(fields: Fields = {}): Promise<Record<string, any>> {
    await importFile(store, writeExport([user(1, "alice", { name: "Alice Original", ...fields })]), {
      scope: "Organization",
    });
    const all = await rows(store, "auth_user");
    expect(all.map((u) => u.username)).toEqual(["alice"]);
    return all[0];
  }

  it("#8 importing a user whose username does not exist inserts it with kind Inserted and is_unclaimed = true", async () => {
    const path = writeExport([user(7, "alice", { is_unclaimed: false })]);
    const { pkMap, stats } = await importFile(store, path, { scope: "User" });
    const [u] = await rows(store, "auth_user");
    expect(u.username).toBe("alice");
    expect(bool(u.is_unclaimed)).toBe(true);
    expect(pkMap.getKind("sentry.user", 7)).toBe("Inserted");
    expect(pkMap.getPk("sentry.user", 7)).toBe(Number(u.id));
    expect(stats.of("sentry.user").inserted).toBe(1);
  });

  it.each(["User", "Organization"] as Scope[])(
    "#9 in %s scope imported users end with is_staff = is_superuser = is_managed = false",
    async (scope) => {
      const path = writeExport([user(1, "root", { is_staff: true, is_superuser: true, is_managed: true })]);
      await importFile(store, path, { scope });
      const [u] = await rows(store, "auth_user");
      expect(u.username).toBe("root");
      expect([bool(u.is_staff), bool(u.is_superuser), bool(u.is_managed)]).toEqual([false, false, false]);
    },
  );

  it("#10 in Config scope an imported superuser keeps is_superuser = true and is_staff", async () => {
    const path = writeExport([
      user(1, "root", { is_staff: true, is_superuser: true }),
      user(2, "helper", { is_staff: true, is_superuser: false }),
    ]);
    await importFile(store, path, { scope: "Config" });
    const [root, helper] = await rows(store, "auth_user");
    expect(root.username).toBe("root");
    expect([bool(root.is_superuser), bool(root.is_staff)]).toEqual([true, true]);
    expect(helper.username).toBe("helper");
    expect([bool(helper.is_superuser), bool(helper.is_staff)]).toEqual([false, true]);
  });

  it("#11 in non-Global scopes the password hash is replaced and a lost-password hash record exists", async () => {
    expect(verifies(PASSWORD, HASH)).toBe(true);
    const path = writeExport([user(1, "alice", { is_unclaimed: false })]);
    const { pkMap } = await importFile(store, path, { scope: "Organization" });
    const [u] = await rows(store, "auth_user");
    expect(u.password).not.toBe(HASH);
    expect(verifies(PASSWORD, u.password)).toBe(false);
    const hashes = await rows(store, "sentry_lostpasswordhash");
    expect(hashes).toHaveLength(1);
    expect(Number(hashes[0].user_id)).toBe(pkMap.getPk("sentry.user", 1));
    expect(hashes[0].hash).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it("#12 in Global scope a user with is_unclaimed = false keeps its exact password hash, no lost-password record", async () => {
    const path = writeExport([
      user(1, "alice", { is_unclaimed: false, last_password_change: "2021-02-03T04:05:06.000Z" }),
    ]);
    await importFile(store, path, { scope: "Global" });
    const [u] = await rows(store, "auth_user");
    expect(u.password).toBe(HASH);
    expect(verifies(PASSWORD, u.password)).toBe(true);
    expect(bool(u.is_unclaimed)).toBe(false);
    expect(await count(store, "sentry_lostpasswordhash")).toBe(0);
  });

  it("#13 in Global scope a user with is_unclaimed = true gets a new random password", async () => {
    const path = writeExport([
      user(1, "alice", { is_unclaimed: true }),
      user(2, "bob", { is_unclaimed: false }),
    ]);
    await importFile(store, path, { scope: "Global" });
    const [alice, bob] = await rows(store, "auth_user");
    expect(alice.username).toBe("alice");
    expect(alice.password).not.toBe(HASH);
    expect(verifies(PASSWORD, alice.password)).toBe(false);
    expect(bool(alice.is_unclaimed)).toBe(true);
    // Same import, claimed user: untouched.
    expect(bob.password).toBe(HASH);
  });

  it("#14 importing alice when alice exists (merge_users=false) creates alice-XX, kind Inserted", async () => {
    const original = await existingAlice();
    const { pkMap } = await importFile(store, writeExport([user(1, "alice")]), {
      scope: "Organization",
      flags: { mergeUsers: false },
    });
    const all = await rows(store, "auth_user");
    expect(all).toHaveLength(2);
    expect(all[0]).toEqual(original);
    const renamed = all[1];
    expect(renamed.username).toMatch(/^alice-[a-z0-79]{2}$/);
    expect(pkMap.getKind("sentry.user", 1)).toBe("Inserted");
    expect(pkMap.getPk("sentry.user", 1)).toBe(Number(renamed.id));
  });

  it("#15 importing alice when alice exists (merge_users=true) creates no user; maps (existingPk, Existing)", async () => {
    const original = await existingAlice();
    const path = writeExport([
      user(5, "alice", {
        name: "Imposter",
        email: "imposter@example.com",
        is_active: false,
        password: djangoHash("x", "y"),
      }),
    ]);
    const { pkMap, stats } = await importFile(store, path, {
      scope: "Organization",
      flags: { mergeUsers: true },
    });
    expect(await rows(store, "auth_user")).toEqual([original]);
    expect(pkMap.getPk("sentry.user", 5)).toBe(Number(original.id));
    expect(pkMap.getKind("sentry.user", 5)).toBe("Existing");
    expect(stats.of("sentry.user").existing).toBe(1);
    expect(stats.of("sentry.user").inserted).toBe(0);
  });

  it("#16 importing Alice when only alice exists creates a user named exactly Alice, even with merge_users=true", async () => {
    const original = await existingAlice();
    const { pkMap } = await importFile(store, writeExport([user(1, "Alice")]), {
      scope: "Organization",
      flags: { mergeUsers: true },
    });
    const all = await rows(store, "auth_user");
    expect(all.map((u) => u.username)).toEqual(["alice", "Alice"]);
    expect(all[0]).toEqual(original);
    expect(pkMap.getKind("sentry.user", 1)).toBe("Inserted");
    expect(pkMap.getPk("sentry.user", 1)).toBe(Number(all[1].id));
  });

  it("#16 alice and Alice in one file are two users with exactly those names (merge_users=true)", async () => {
    const { pkMap } = await importFile(store, writeExport([user(1, "alice"), user(2, "Alice")]), {
      scope: "Organization",
      flags: { mergeUsers: true },
    });
    const all = await rows(store, "auth_user");
    expect(all.map((u) => u.username)).toEqual(["alice", "Alice"]);
    expect([pkMap.getKind("sentry.user", 1), pkMap.getKind("sentry.user", 2)]).toEqual([
      "Inserted",
      "Inserted",
    ]);
  });

  it("#17 with merge_users=true, UserEmail and UserPermission rows of the merged user are not imported (Config scope)", async () => {
    await importFile(store, writeExport([user(1, "alice", { name: "Alice Original" })]), { scope: "Config" });
    const before = await snapshot(store, ["auth_user", "sentry_useremail"]);
    const path = writeExport([
      user(9, "alice", { email: "alice@example.com" }),
      user(10, "bob"),
      userEmail(1, 9, "alice@example.com"),
      userEmail(2, 9, "alice-second@example.com"),
      userEmail(3, 10, "bob@example.com"),
      userPermission(1, 9, "users.admin"),
      userPermission(2, 10, "broadcasts.admin"),
    ]);
    const { pkMap, stats } = await importFile(store, path, { scope: "Config", flags: { mergeUsers: true } });
    expect(pkMap.getKind("sentry.user", 9)).toBe("Existing");
    const bobPk = pkMap.getPk("sentry.user", 10);
    // Only bob's rows arrived; alice's rows are exactly as before.
    const emails = await rows(store, "sentry_useremail");
    expect(emails.map((e) => e.email)).toEqual(["alice@example.com", "bob@example.com"]);
    const perms = await rows(store, "sentry_userpermission");
    expect(perms.map((p) => [Number(p.user_id), p.permission])).toEqual([[bobPk, "broadcasts.admin"]]);
    expect(stats.of("sentry.useremail").dropped).toEqual({ "belongs to a merged user": 2 });
    expect(stats.of("sentry.userpermission").dropped).toEqual({ "belongs to a merged user": 1 });
    const after = await snapshot(store, ["auth_user", "sentry_useremail"]);
    expect(JSON.parse(after).auth_user[0]).toEqual(JSON.parse(before).auth_user[0]);
    expect(JSON.parse(after).sentry_useremail[0]).toEqual(JSON.parse(before).sentry_useremail[0]);
  });

  it("#17 with merge_users=true, UserIP rows of the merged user are not imported (Global scope)", async () => {
    // Global scope starts from an empty database, so the user to merge into comes from the same file.
    const path = writeExport([
      user(1, "alice"),
      user(2, "alice", { email: "alice-too@example.com" }),
      userIp(1, 1, "10.0.0.1"),
      userIp(2, 2, "10.0.0.2"),
    ]);
    const { pkMap, stats } = await importFile(store, path, { scope: "Global", flags: { mergeUsers: true } });
    const users = await rows(store, "auth_user");
    expect(users.map((u) => u.username)).toEqual(["alice"]);
    expect(pkMap.getKind("sentry.user", 2)).toBe("Existing");
    expect(pkMap.getPk("sentry.user", 2)).toBe(Number(users[0].id));
    const ips = await rows(store, "sentry_userip");
    expect(ips.map((ip) => ip.ip_address)).toEqual(["10.0.0.1"]);
    expect(stats.of("sentry.userip").dropped).toEqual({ "belongs to a merged user": 1 });
  });

  it("#18 in non-Global scopes every imported UserEmail has is_verified = false and a new validation hash", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const emails = await rows(store, "sentry_useremail");
    expect(emails.map((e) => e.email)).toEqual([
      "admin@example.com",
      "member@example.com",
      "superadmin@example.com",
    ]);
    for (const e of emails) {
      expect(bool(e.is_verified)).toBe(false);
      expect(e.validation_hash).toMatch(/^[A-Za-z0-9]{32}$/);
    }
    const sourceHashes = [
      "mCnWesSVvYQcq7qXQ36AZHwosAd6cghE",
      "sJui890evYQcq7qXQ36AZHwochus8f0g",
      "VSj0hfPGiq1UdkHDg8p49sOP9saYvIwH",
    ];
    for (const h of sourceHashes) expect(emails.map((e) => e.validation_hash)).not.toContain(h);
  });

  it("#18 in Global scope is_verified and the validation hash of an imported UserEmail are preserved", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Global" });
    const emails = await rows(store, "sentry_useremail");
    expect(emails.map((e) => [e.email, e.validation_hash, bool(e.is_verified)])).toEqual([
      ["admin@example.com", "mCnWesSVvYQcq7qXQ36AZHwosAd6cghE", false],
      ["member@example.com", "sJui890evYQcq7qXQ36AZHwochus8f0g", false],
      ["superadmin@example.com", "VSj0hfPGiq1UdkHDg8p49sOP9saYvIwH", true],
    ]);
  });

  it("#19 a username over 128 chars fails with an ImportingError of kind ValidationError and persists nothing", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const before = await snapshot(store, ALL_TABLES);
    const path = writeExport([
      email(1, "good@example.com"),
      { model: "sentry.organization", pk: 1, fields: { name: "Acme", slug: "acme" } },
      user(1, "good"),
      user(2, "x".repeat(200)),
    ]);
    const err = await importFile(store, path, { scope: "Organization" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportingError);
    const finding = (err as ImportingError).finding;
    expect(finding.kind).toBe("ValidationError");
    expect(finding.on.model).toBe("sentry.user");
    expect(finding.reason).toContain("username");
    expect(await snapshot(store, ALL_TABLES)).toBe(before);
  });

  it("#20 importing an Email that exists case-insensitively yields kind Existing and leaves one row", async () => {
    await importFile(store, writeExport([email(1, "Alice@Example.COM")]), { scope: "User" });
    const [existing] = await rows(store, "sentry_email");
    const { pkMap } = await importFile(
      store,
      writeExport([email(4, "alice@example.com", { date_added: "2022-02-02T00:00:00.000Z" })]),
      {
        scope: "User",
      },
    );
    expect(pkMap.getKind("sentry.email", 4)).toBe("Existing");
    expect(pkMap.getPk("sentry.email", 4)).toBe(Number(existing.id));
    const all = await rows(store, "sentry_email");
    expect(all).toHaveLength(1);
    expect(Number(all[0].id)).toBe(Number(existing.id));
    // As in Sentry, the imported data is saved over the existing row (letter case included).
    expect(all[0].email).toBe("alice@example.com");
  });

  it("a new user gets Sentry's primary address rows: one Email per address (case-insensitively) and one UserEmail, the export's own taking its place where it brings one", async () => {
    await importFile(store, writeExport([email(1, "Carol@Example.com")]), { scope: "User" });
    const path = writeExport([
      email(7, "dave@example.com", { date_added: "2021-03-03T00:00:00.000Z" }),
      user(1, "alice"),
      user(2, "bob", { email: "ALICE@example.com" }),
      user(3, "carol", { email: "carol@example.com" }),
      user(4, "dave"),
      userEmail(9, 4, "dave@example.com", { validation_hash: "D".repeat(32), is_verified: true }),
      userEmail(10, 4, "dave-second@example.com"),
    ]);
    const { pkMap } = await importFile(store, path, { scope: "User" });
    const emails = (await rows(store, "sentry_email")).map((e) => [e.email, e.date_added]);
    expect(emails.map(([address]) => address)).toEqual([
      "Carol@Example.com",
      "dave@example.com",
      "alice@example.com",
    ]);
    expect(String(emails[1][1])).toContain("2021-03-03");
    const pk = (old: number) => pkMap.getPk("sentry.user", old);
    const owned = (await rows(store, "sentry_useremail")).map((e) => [
      Number(e.user_id),
      e.email,
      e.validation_hash,
      bool(e.is_verified),
    ]);
    expect(owned).toHaveLength(5);
    expect(owned).toEqual(
      expect.arrayContaining([
        [pk(4), "dave@example.com", expect.stringMatching(/^[A-Za-z0-9]{32}$/), false],
        [pk(4), "dave-second@example.com", expect.stringMatching(/^[A-Za-z0-9]{32}$/), false],
        [pk(1), "alice@example.com", expect.stringMatching(/^[A-Za-z0-9]{32}$/), false],
        [pk(2), "ALICE@example.com", expect.stringMatching(/^[A-Za-z0-9]{32}$/), false],
        [pk(3), "carol@example.com", expect.stringMatching(/^[A-Za-z0-9]{32}$/), false],
      ]),
    );
  });
  it("a new user's Email row exists before the export's own Email row arrives (kind Existing), even when the export brings its UserEmail but no Email", async () => {
    const { pkMap } = await importFile(
      store,
      writeExport([user(1, "alice"), email(5, "Alice@Example.com"), userEmail(1, 1, "alice@example.com")]),
      { scope: "User" },
    );
    expect(pkMap.getKind("sentry.email", 5)).toBe("Existing");
    const emails = await rows(store, "sentry_email");
    expect(emails.map((e) => e.email)).toEqual(["Alice@Example.com"]);
    await importFile(store, writeExport([user(1, "bob"), userEmail(1, 1, "bob@example.com")]), {
      scope: "User",
    });
    expect((await rows(store, "sentry_email")).map((e) => e.email)).toEqual([
      "Alice@Example.com",
      "bob@example.com",
    ]);
    expect(await count(store, "sentry_useremail")).toBe(2);
  });

  it("an address with non-ASCII capitals imported twice is found again (Existing), however the database folds case", async () => {
    for (const address of ["ÉMILE@Example.com", "İnci@Example.com", "ΣΟΦΙΑ@Example.com"]) {
      await importFile(store, writeExport([email(1, address)]), { scope: "User" });
      const { pkMap } = await importFile(store, writeExport([email(1, address)]), { scope: "User" });
      expect(pkMap.getKind("sentry.email", 1)).toBe("Existing");
      await importFile(store, writeExport([user(1, `u${address.length}`, { email: address })]), {
        scope: "User",
      });
    }
    expect(await count(store, "sentry_email")).toBe(3);
  });

  it("two users with the same pk in a malformed export each get their primary address rows", async () => {
    await importFile(store, writeExport([user(1, "ann"), user(1, "ben")]), { scope: "User" });
    expect((await rows(store, "sentry_email")).map((e) => e.email)).toEqual([
      "ann@example.com",
      "ben@example.com",
    ]);
    expect((await rows(store, "sentry_useremail")).map((e) => e.email)).toEqual([
      "ann@example.com",
      "ben@example.com",
    ]);
  });

  it("#21 a UserIP with an invalid IP address fails with a ValidationError from Django validation", async () => {
    const path = writeExport([user(1, "alice"), userIp(1, 1, "10.0.0.1"), userIp(2, 1, "not-an-ip")]);
    const err = await importFile(store, path, { scope: "Global" }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ImportingError);
    const finding = (err as ImportingError).finding;
    expect(finding.kind).toBe("ValidationError");
    expect(finding.on.model).toBe("sentry.userip");
    expect(finding.reason.startsWith("Django validation error encountered:")).toBe(true);
    expect(await count(store, "sentry_userip")).toBe(0);
    expect(await count(store, "auth_user")).toBe(0);
  });

  describe("--merge-users", () => {
    /** A Config-scope export naming alice (pk 9) and everything that can hang off a user. */
    const aliceWithExtras = () =>
      writeExport([
        user(9, "alice", {
          name: "Imported Alice",
          email: "imported@example.com",
          is_superuser: true,
          is_staff: true,
        }),
        userEmail(1, 9, "imported@example.com"),
        userEmail(2, 9, "alice-second@example.com"),
        userPermission(1, 9, "users.admin"),
        userRole(1, "Admin", ["users.admin"]),
        userRoleUser(1, 9, 1),
      ]);

    it("merged user: UserEmail, UserPermission and UserRoleUser rows are not imported, fields unchanged", async () => {
      await importFile(store, writeExport([user(1, "alice", { name: "Alice Original" })]), {
        scope: "Config",
      });
      const before = await snapshot(store, ["auth_user", "sentry_useremail", "sentry_lostpasswordhash"]);
      const { pkMap, stats } = await importFile(store, aliceWithExtras(), {
        scope: "Config",
        flags: { mergeUsers: true },
      });
      expect(pkMap.getKind("sentry.user", 9)).toBe("Existing");
      expect(await snapshot(store, ["auth_user", "sentry_useremail", "sentry_lostpasswordhash"])).toBe(
        before,
      );
      const [alice] = await rows(store, "auth_user");
      expect(alice.first_name).toBe("Alice Original");
      expect(alice.email).toBe("alice@example.com");
      expect(await count(store, "sentry_userpermission")).toBe(0);
      expect(await count(store, "sentry_userrole_users")).toBe(0);
      expect(stats.of("sentry.userroleuser").dropped).toEqual({ "belongs to a merged user": 1 });
      // The role itself does not belong to the user and is imported.
      expect((await rows(store, "sentry_userrole")).map((r) => r.name)).toEqual(["Admin"]);
    });

    it("without merge_users the same rows are imported for the renamed user", async () => {
      await importFile(store, writeExport([user(1, "alice", { name: "Alice Original" })]), {
        scope: "Config",
      });
      const { pkMap } = await importFile(store, aliceWithExtras(), {
        scope: "Config",
        flags: { mergeUsers: false },
      });
      expect(pkMap.getKind("sentry.user", 9)).toBe("Inserted");
      const newPk = pkMap.getPk("sentry.user", 9);
      const users = await rows(store, "auth_user");
      expect(users).toHaveLength(2);
      expect(users[1].username).toMatch(/^alice-[a-z0-79]{2}$/);
      expect(bool(users[1].is_superuser)).toBe(true);
      const emails = (await rows(store, "sentry_useremail")).filter((e) => Number(e.user_id) === newPk);
      expect(emails.map((e) => e.email).sort()).toEqual(["alice-second@example.com", "imported@example.com"]);
      expect((await rows(store, "sentry_userpermission")).map((p) => Number(p.user_id))).toEqual([newPk]);
      expect((await rows(store, "sentry_userrole_users")).map((r) => Number(r.user_id))).toEqual([newPk]);
    });

    it("merged user in Global scope: UserIP and UserEmail rows of the merged user are not imported", async () => {
      const path = writeExport([
        user(1, "alice", { name: "First" }),
        user(2, "alice", { name: "Second", email: "second@example.com" }),
        userEmail(1, 1, "alice@example.com"),
        userEmail(2, 2, "second@example.com"),
        userIp(1, 1, "192.168.0.1"),
        userIp(2, 2, "192.168.0.2"),
      ]);
      const { pkMap } = await importFile(store, path, { scope: "Global", flags: { mergeUsers: true } });
      const users = await rows(store, "auth_user");
      expect(users.map((u) => [u.username, u.first_name, u.email])).toEqual([
        ["alice", "First", "alice@example.com"],
      ]);
      expect(pkMap.getPk("sentry.user", 2)).toBe(Number(users[0].id));
      expect((await rows(store, "sentry_useremail")).map((e) => e.email)).toEqual(["alice@example.com"]);
      expect((await rows(store, "sentry_userip")).map((ip) => ip.ip_address)).toEqual(["192.168.0.1"]);
    });
  });

  describe("overwriteConfigs", () => {
    const cases = [
      {
        model: "sentry.option",
        table: "sentry_option",
        key: "key",
        first: { key: "foo", value: "old" },
        second: { key: "foo", value: "new" },
        read: (r: Record<string, any>) => JSON.parse(r.value),
        oldValue: "old",
        newValue: "new",
      },
      {
        model: "sentry.userrole",
        table: "sentry_userrole",
        key: "name",
        first: { name: "Admin", permissions: ["users.admin"] },
        second: { name: "Admin", permissions: ["users.admin", "options.admin"] },
        read: (r: Record<string, any>) => JSON.parse(r.permissions),
        oldValue: ["users.admin"],
        newValue: ["users.admin", "options.admin"],
      },
      {
        model: "sentry.relay",
        table: "sentry_relay",
        key: "relay_id",
        first: { relay_id: "541d8473-0a90-4a4e-b536-704f223521b0", public_key: "old-key" },
        second: { relay_id: "541d8473-0a90-4a4e-b536-704f223521b0", public_key: "new-key" },
        read: (r: Record<string, any>) => r.public_key,
        oldValue: "old-key",
        newValue: "new-key",
      },
    ];

    for (const c of cases) {
      it(`${c.model}: an existing key is kept with overwriteConfigs=false (kind Existing)`, async () => {
        await importFile(store, writeExport([{ model: c.model, pk: 1, fields: c.first }]), {
          scope: "Config",
        });
        const [before] = await rows(store, c.table);
        const { pkMap } = await importFile(
          store,
          writeExport([{ model: c.model, pk: 3, fields: c.second }]),
          {
            scope: "Config",
            flags: { overwriteConfigs: false },
          },
        );
        expect(pkMap.getKind(c.model, 3)).toBe("Existing");
        expect(pkMap.getPk(c.model, 3)).toBe(Number(before.id));
        const all = await rows(store, c.table);
        expect(all).toEqual([before]);
        expect(c.read(all[0])).toEqual(c.oldValue);
      });

      it(`${c.model}: an existing key is overwritten with overwriteConfigs=true (kind Overwrite, same pk)`, async () => {
        await importFile(store, writeExport([{ model: c.model, pk: 1, fields: c.first }]), {
          scope: "Config",
        });
        const [before] = await rows(store, c.table);
        const { pkMap } = await importFile(
          store,
          writeExport([{ model: c.model, pk: 3, fields: c.second }]),
          {
            scope: "Config",
            flags: { overwriteConfigs: true },
          },
        );
        expect(pkMap.getKind(c.model, 3)).toBe("Overwrite");
        expect(pkMap.getPk(c.model, 3)).toBe(Number(before.id));
        const all = await rows(store, c.table);
        expect(all).toHaveLength(1);
        expect(Number(all[0].id)).toBe(Number(before.id));
        expect(all[0][c.key]).toBe(before[c.key]);
        expect(c.read(all[0])).toEqual(c.newValue);
      });
    }
  });
});
