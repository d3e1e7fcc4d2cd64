/**
 * Model-specific import behavior: import.md §16 items 51-61, plus re-importing fresh-install.json
 * and organization members whose inviter was not imported. Where relo deliberately differs from
 * Sentry, the test name says so.
 */
import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import { orgSlugFilter } from "../src/backup/filters.js";
import { mintOrgAuthToken, RELOCATION_PENDING_APPROVAL } from "../src/models/organizations.js";
import { fromDb } from "../src/store/codec.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, fixture, importFile, rows, writeExport } from "./helpers/import.js";

const SUFFIX = "[a-z0-79]";
const URL_PREFIX = "https://relo.example";

const org = (pk: number, slug: string, name = slug) => ({
  model: "sentry.organization",
  pk,
  fields: { name, slug },
});
const user = (pk: number, username: string) => ({
  model: "sentry.user",
  pk,
  fields: { password: "pbkdf2_sha256$1$salt$hash", username, name: "", email: `${username}@example.com` },
});
const option = (pk: number, key: string, value: string, by = "unknown") => ({
  model: "sentry.option",
  pk,
  fields: { key, last_updated: "2023-06-22T00:00:00.000Z", last_updated_by: by, value },
});
const orgAuthToken = (pk: number, organization: number, tokenHashed: string) => ({
  model: "sentry.orgauthtoken",
  pk,
  fields: {
    organization_id: organization,
    token_hashed: tokenHashed,
    token_last_characters: "wxyz",
    name: `token ${pk}`,
    scope_list: ["org:ci"],
    created_by: null,
    date_added: "2024-01-01T00:00:00.000Z",
  },
});

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A stored datetime as ISO text, whichever database it came from. */
const iso = (v: unknown) =>
  fromDb({ name: "t", column: "t", type: "datetime", nullable: true }, v) as string | null;

/** A stored JSON column's value. */
const json = (v: unknown) => JSON.parse(String(v));

describeEachDb("import models", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  const slugs = async () => (await rows(store, "sentry_organization")).map((o) => o.slug as string);

  async function setUrlPrefix(): Promise<void> {
    await importFile(store, writeExport([option(1, "system.url-prefix", JSON.stringify(URL_PREFIX))]), {
      scope: "Config",
    });
  }

  it("#51 two imported organizations with slug acme end with distinct slugs, the second acme-XX", async () => {
    await importFile(store, writeExport([org(1, "acme"), org(2, "acme")]), { scope: "Organization" });
    const [first, second] = await slugs();
    expect(first).toBe("acme");
    expect(second).toMatch(new RegExp(`^acme-${SUFFIX}{2}$`));
  });

  it("#51 an organization acme imported when acme exists becomes acme-XX", async () => {
    await importFile(store, writeExport([org(1, "acme")]), { scope: "Organization" });
    await importFile(store, writeExport([org(1, "acme")]), { scope: "Organization" });
    const [first, second] = await slugs();
    expect(first).toBe("acme");
    expect(second).toMatch(new RegExp(`^acme-${SUFFIX}{2}$`));
  });

  it("#52 an imported organization with a reserved slug gets a random 12-hex-character slug", async () => {
    await importFile(store, writeExport([org(1, "api"), org(2, "Settings")]), { scope: "Organization" });
    const found = await slugs();
    expect(found).toHaveLength(2);
    for (const slug of found) expect(slug).toMatch(/^[0-9a-f]{12}$/);
    expect(found[0]).not.toBe(found[1]);
  });

  it("#53 an imported organization whose slug is all digits gets a suffix even though it is unique", async () => {
    await importFile(store, writeExport([org(1, "12345")]), { scope: "Organization" });
    expect(await slugs()).toEqual([expect.stringMatching(new RegExp(`^12345-${SUFFIX}{2}$`))]);
  });

  it("#54 with hideOrganizations imported organizations get status RELOCATION_PENDING_APPROVAL (3)", async () => {
    expect(RELOCATION_PENDING_APPROVAL).toBe(3);
    await importFile(store, writeExport([org(1, "hidden")]), {
      scope: "Organization",
      flags: { hideOrganizations: true },
    });
    await importFile(store, writeExport([org(1, "shown")]), { scope: "Organization" });
    const orgs = await rows(store, "sentry_organization");
    expect(orgs.map((o) => [o.slug, Number(o.status)])).toEqual([
      ["hidden", 3],
      ["shown", 0],
    ]);
  });

  it("#55 an OrgAuthToken whose token_hashed collides gets a new sha256 token_hashed and matching last characters", async () => {
    await setUrlPrefix();
    const original = "a".repeat(64);
    const path = writeExport([org(1, "acme"), orgAuthToken(1, 1, original), orgAuthToken(2, 1, "")]);
    await importFile(store, path, { scope: "Organization" });
    const first = await rows(store, "sentry_orgauthtoken");
    expect(first).toHaveLength(2);
    // Not colliding: kept as is. Empty: minted.
    expect([first[0].token_hashed, first[0].token_last_characters]).toEqual([original, "wxyz"]);
    expect(first[1].token_hashed).toMatch(/^[0-9a-f]{64}$/);
    expect(first[1].token_last_characters).toMatch(/^[A-Za-z0-9+/]{4}$/);

    const { pkMap } = await importFile(store, path, { scope: "Organization" });
    const tokens = await rows(store, "sentry_orgauthtoken");
    expect(tokens).toHaveLength(4);
    const regenerated = tokens[2];
    expect(regenerated.token_hashed).toMatch(/^[0-9a-f]{64}$/);
    expect(regenerated.token_hashed).not.toBe(original);
    expect(regenerated.token_last_characters).toMatch(/^[A-Za-z0-9+/]{4}$/);
    expect(new Set(tokens.map((t) => t.token_hashed)).size).toBe(4);
    const newOrg = pkMap.getPk("sentry.organization", 1);
    expect(tokens.slice(2).map((t) => Number(t.organization_id))).toEqual([newOrg, newOrg]);
  });

  it("#55 a minted org auth token is sntrys_ + base64 claims naming the url prefix and org slug + _ + secret", () => {
    const now = "2024-05-06T07:08:09.000Z";
    const token = mintOrgAuthToken(URL_PREFIX, "acme-x1", now);
    const match = /^sntrys_([A-Za-z0-9+/=]+)_([A-Za-z0-9+/]{43})$/.exec(token);
    expect(match, token).not.toBeNull();
    const claims = JSON.parse(Buffer.from(match![1], "base64").toString("ascii"));
    expect(claims).toEqual({
      iat: Date.parse(now) / 1000,
      url: URL_PREFIX,
      region_url: URL_PREFIX,
      org: "acme-x1",
    });
    expect(sha256(token)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("#56 an OrgAuthToken needing regeneration is dropped when system.url-prefix is not configured", async () => {
    const original = "b".repeat(64);
    const path = writeExport([org(1, "acme"), orgAuthToken(1, 1, original), orgAuthToken(2, 1, "")]);
    const first = await importFile(store, path, { scope: "Organization" });
    expect((await rows(store, "sentry_orgauthtoken")).map((t) => t.token_hashed)).toEqual([original]);
    expect(first.stats.of("sentry.orgauthtoken").dropped).toEqual({
      "its token had to be regenerated, which needs the system.url-prefix option": 1,
    });
    const second = await importFile(store, path, { scope: "Organization" });
    expect((await rows(store, "sentry_orgauthtoken")).map((t) => t.token_hashed)).toEqual([original]);
    expect(second.stats.of("sentry.orgauthtoken").inserted).toBe(0);
    expect(await count(store, "sentry_organization")).toBe(2);
  });

  it("#57 an ApiToken whose token collides gets a new token; its refresh token and expiry are renewed only if it had them", async () => {
    const t1 = "1".repeat(64);
    const r1 = "2".repeat(64);
    const t2 = "3".repeat(64);
    const apiToken = (pk: number, fields: Record<string, unknown>) => ({
      model: "sentry.apitoken",
      pk,
      fields: {
        user: 1,
        application: null,
        scopes: "0",
        scope_list: ["org:read"],
        name: null,
        token_type: null,
        ...fields,
      },
    });
    const path = writeExport([
      user(1, "tokenowner"),
      apiToken(1, {
        token: t1,
        hashed_token: sha256(t1),
        token_last_characters: t1.slice(-4),
        refresh_token: r1,
        hashed_refresh_token: sha256(r1),
        expires_at: "2030-01-01T00:00:00.000Z",
      }),
      apiToken(2, {
        token: t2,
        hashed_token: null,
        refresh_token: null,
        hashed_refresh_token: null,
        expires_at: null,
      }),
    ]);
    await importFile(store, path, { scope: "Config" });
    const kept = await rows(store, "sentry_apitoken");
    expect(kept.map((t) => [t.token, t.refresh_token])).toEqual([
      [t1, r1],
      [t2, null],
    ]);
    const started = Date.now();
    await importFile(store, path, { scope: "Config" });
    const tokens = await rows(store, "sentry_apitoken");
    expect(tokens).toHaveLength(4);
    const [withRefresh, withoutRefresh] = tokens.slice(2);
    expect(withRefresh.token).toMatch(/^[0-9a-f]{64}$/);
    expect(withRefresh.token).not.toBe(t1);
    expect(withRefresh.hashed_token).toBe(sha256(withRefresh.token));
    expect(withRefresh.token_last_characters).toBe(withRefresh.token.slice(-4));
    expect(withRefresh.refresh_token).toMatch(/^[0-9a-f]{64}$/);
    expect(withRefresh.refresh_token).not.toBe(r1);
    expect(withRefresh.hashed_refresh_token).toBe(sha256(withRefresh.refresh_token));
    const expires = Date.parse(iso(withRefresh.expires_at)!);
    const thirtyDays = 30 * 24 * 3600 * 1000;
    expect(expires).toBeGreaterThan(started + thirtyDays - 60_000);
    expect(expires).toBeLessThan(Date.now() + thirtyDays + 60_000);

    expect(withoutRefresh.token).toMatch(/^[0-9a-f]{64}$/);
    expect(withoutRefresh.token).not.toBe(t2);
    expect(withoutRefresh.refresh_token).toBeNull();
    expect(withoutRefresh.hashed_refresh_token).toBeNull();
    expect(withoutRefresh.hashed_token).toBeNull();
    expect(withoutRefresh.expires_at).toBeNull();
  });

  it("#58 (relo) two imported keys of one project both survive (Sentry keeps one), a colliding public_key is regenerated", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const existing = "c1373be35a7944808c8bcfede8097df1";
    expect((await rows(store, "sentry_projectkey")).map((k) => k.public_key)).toEqual([existing]);
    const key = (pk: number, label: string, publicKey: string, secretKey: string) => ({
      model: "sentry.projectkey",
      pk,
      fields: {
        project: 1,
        label,
        public_key: publicKey,
        secret_key: secretKey,
        roles: "1",
        status: 0,
        data: {},
      },
    });
    const path = writeExport([
      org(1, "acme"),
      { model: "sentry.project", pk: 1, fields: { slug: "web", name: "Web", organization: 1 } },
      key(1, "A", existing, "1".repeat(32)),
      key(2, "B", "e".repeat(32), "f".repeat(32)),
    ]);
    const { pkMap } = await importFile(store, path, { scope: "Organization" });
    const newProject = pkMap.getPk("sentry.project", 1);
    const keys = (await rows(store, "sentry_projectkey")).filter((k) => Number(k.project_id) === newProject);
    expect(keys.map((k) => k.label)).toEqual(["A", "B"]);
    expect(keys[0].public_key).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[0].public_key).not.toBe(existing);
    expect(keys[0].secret_key).toBe("1".repeat(32));
    expect([keys[1].public_key, keys[1].secret_key]).toEqual(["e".repeat(32), "f".repeat(32)]);
    expect(pkMap.getPk("sentry.projectkey", 1)).toBe(Number(keys[0].id));
    expect(pkMap.getPk("sentry.projectkey", 2)).toBe(Number(keys[1].id));
    expect(await count(store, "sentry_projectkey")).toBe(3);
  });

  it("#59 Option foo that exists is kept (Existing) or, with overwriteConfigs, overwritten in place (Overwrite)", async () => {
    await importFile(store, writeExport([option(1, "foo", '"one"')]), { scope: "Config" });
    const [before] = await rows(store, "sentry_option");
    const path = writeExport([option(9, "foo", '"two"', "tester")]);

    const kept = await importFile(store, path, { scope: "Config" });
    expect(kept.pkMap.getPk("sentry.option", 9)).toBe(Number(before.id));
    expect(kept.pkMap.getKind("sentry.option", 9)).toBe("Existing");
    const afterKeep = await rows(store, "sentry_option");
    expect(afterKeep).toEqual([before]);
    expect(json(afterKeep[0].value)).toBe('"one"');

    const over = await importFile(store, path, { scope: "Config", flags: { overwriteConfigs: true } });
    expect(over.pkMap.getPk("sentry.option", 9)).toBe(Number(before.id));
    expect(over.pkMap.getKind("sentry.option", 9)).toBe("Overwrite");
    const afterOverwrite = await rows(store, "sentry_option");
    expect(afterOverwrite).toHaveLength(1);
    expect(Number(afterOverwrite[0].id)).toBe(Number(before.id));
    expect(json(afterOverwrite[0].value)).toBe('"two"');
    expect(afterOverwrite[0].last_updated_by).toBe("tester");
  });

  it("#60 a Relay whose relay_id exists is kept (Existing) or, with overwriteConfigs, overwritten in place (Overwrite)", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Config" });
    const [before] = await rows(store, "sentry_relay");
    expect(before.relay_id).toBe("541d8473-0a90-4a4e-b536-704f223521b0");
    const path = writeExport([
      {
        model: "sentry.relay",
        pk: 5,
        fields: { relay_id: before.relay_id, public_key: "replacement-key", is_internal: false },
      },
    ]);

    const kept = await importFile(store, path, { scope: "Config" });
    expect(kept.pkMap.getPk("sentry.relay", 5)).toBe(Number(before.id));
    expect(kept.pkMap.getKind("sentry.relay", 5)).toBe("Existing");
    expect(await rows(store, "sentry_relay")).toEqual([before]);

    const over = await importFile(store, path, { scope: "Config", flags: { overwriteConfigs: true } });
    expect(over.pkMap.getPk("sentry.relay", 5)).toBe(Number(before.id));
    expect(over.pkMap.getKind("sentry.relay", 5)).toBe("Overwrite");
    const after = await rows(store, "sentry_relay");
    expect(after.map((r) => [Number(r.id), r.relay_id, r.public_key])).toEqual([
      [Number(before.id), before.relay_id, "replacement-key"],
    ]);
  });

  it("#61 (relo) every imported organization ends with exactly one PRIMARY reservation for its final slug (Sentry: an alias swapped into primary)", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    await importFile(store, writeExport([org(1, "acme"), org(2, "acme"), org(3, "api"), org(4, "12345")]), {
      scope: "Organization",
    });
    const orgs = await rows(store, "sentry_organization");
    const reservations = await rows(store, "sentry_organizationslugreservation");
    expect(orgs).toHaveLength(6);
    expect(reservations).toHaveLength(6);
    for (const o of orgs) {
      const mine = reservations.filter((r) => Number(r.organization_id) === Number(o.id));
      expect(
        mine.map((r) => [r.slug, Number(r.reservation_type)]),
        o.slug,
      ).toEqual([[o.slug, 0]]);
    }
    expect(new Set(orgs.map((o) => o.slug)).size).toBe(6);
  });

  it("importing fresh-install.json twice renames the users (<name>-XX) and re-suffixes the org slug (testing-XX)", async () => {
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    await importFile(store, fixture("fresh-install.json"), { scope: "Organization" });
    const names = (await rows(store, "auth_user")).map((u) => u.username as string);
    expect(names.slice(0, 3)).toEqual(["admin@example.com", "member@example.com", "superadmin@example.com"]);
    names.slice(3).forEach((name, i) => {
      expect(name).toMatch(new RegExp(`^${names[i].replace(/\./g, "\\.")}-${SUFFIX}{2}$`));
    });
    expect(new Set(names).size).toBe(6);
    const [first, second] = await slugs();
    expect(first).toBe("testing");
    expect(second).toMatch(new RegExp(`^testing-${SUFFIX}{2}$`));
    expect(await count(store, "sentry_organizationmember")).toBe(6);
  });

  it("an organization member whose inviter was not imported keeps its row with inviter_id null", async () => {
    const { pkMap } = await importFile(store, fixture("fresh-install.json"), {
      scope: "Organization",
      filterBy: orgSlugFilter(["testing"]),
    });
    // Only members' users are imported: superadmin (user 3, inviter of member 2) is not.
    expect((await rows(store, "auth_user")).map((u) => u.username)).toEqual([
      "admin@example.com",
      "member@example.com",
    ]);
    const members = await rows(store, "sentry_organizationmember");
    const admin = pkMap.getPk("sentry.user", 1);
    const member = pkMap.getPk("sentry.user", 2);
    expect(
      members.map((m) => [
        m.user_id === null ? null : Number(m.user_id),
        m.email,
        m.inviter_id === null ? null : Number(m.inviter_id),
      ]),
    ).toEqual([
      [admin, null, null],
      [member, null, null],
      [null, "pending@example.com", admin],
    ]);
  });
});
