/**
 * Conformance checklist (spec/import.md §16) items 22-29: username and organization selections,
 * and how the rest of an export is filtered through its foreign keys. Plus the CLI's parsing of
 * the username selection (src/cli/args.ts).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { UsageError } from "../src/backup/errors.js";
import { orgSlugFilter, usernameFilter } from "../src/backup/filters.js";
import { usernameSelection } from "../src/cli/args.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { importFile, rows, writeExport } from "./helpers/import.js";

type Fields = Record<string, unknown>;

/** The date every email row of these exports carries, to tell imported rows from auto-created ones. */
const FILE_DATE = "2020-01-01T00:00:00.000Z";

const email = (pk: number, address: string) => ({
  model: "sentry.email",
  pk,
  fields: { email: address, date_added: FILE_DATE },
});
const org = (pk: number, slug: string) => ({
  model: "sentry.organization",
  pk,
  fields: { name: slug, slug },
});
const user = (pk: number, username: string, fields: Fields = {}) => ({
  model: "sentry.user",
  pk,
  fields: {
    password: "pbkdf2_sha256$1000$salt$aGFzaA==",
    username,
    name: "",
    email: `${username}@example.com`,
    ...fields,
  },
});
const userEmail = (pk: number, userPk: number, address: string) => ({
  model: "sentry.useremail",
  pk,
  fields: { user: userPk, email: address },
});
const userOption = (pk: number, userPk: number, key: string, fields: Fields = {}) => ({
  model: "sentry.useroption",
  pk,
  fields: { user: userPk, key, value: `"${key}"`, project_id: null, organization_id: null, ...fields },
});
const member = (pk: number, orgPk: number, userPk: number | null, fields: Fields = {}) => ({
  model: "sentry.organizationmember",
  pk,
  fields: {
    organization: orgPk,
    user_id: userPk,
    email: userPk === null ? `invite${pk}@example.com` : null,
    ...fields,
  },
});
const project = (pk: number, orgPk: number, slug: string) => ({
  model: "sentry.project",
  pk,
  fields: { slug, name: slug, organization: orgPk },
});

/** Users a, b, c with their emails and options, as a user-scope export. */
const abcExport = () =>
  writeExport([
    email(1, "a@example.com"),
    email(2, "b@example.com"),
    email(3, "c@example.com"),
    email(4, "nobody@example.com"),
    user(1, "a"),
    user(2, "b"),
    user(3, "c"),
    userEmail(1, 1, "a@example.com"),
    userEmail(2, 2, "b@example.com"),
    userEmail(3, 3, "c@example.com"),
    userOption(1, 1, "timezone"),
    userOption(2, 2, "timezone"),
    userOption(3, 3, "timezone"),
  ]);

/**
 * Two organizations: acme (members u1, u4; an invite; u3 invited u4) and other (member u2).
 * u3 is in no organization.
 */
const orgsExport = (extra: unknown[] = []) =>
  writeExport([
    email(1, "u1@example.com"),
    email(2, "u1-alt@example.com"),
    email(3, "u2@example.com"),
    email(4, "u3@example.com"),
    email(5, "u4@example.com"),
    email(6, "unrelated@example.com"),
    org(1, "acme"),
    org(2, "other"),
    user(1, "u1"),
    user(2, "u2"),
    user(3, "u3"),
    user(4, "u4"),
    userEmail(1, 1, "u1@example.com"),
    userEmail(2, 1, "u1-alt@example.com"),
    userEmail(3, 2, "u2@example.com"),
    userEmail(4, 3, "u3@example.com"),
    userEmail(5, 4, "u4@example.com"),
    member(1, 1, 1, { role: "owner" }),
    member(2, 2, 2, { role: "owner" }),
    member(3, 1, 4, { inviter_id: 3 }),
    member(4, 1, null, { inviter_id: 1 }),
    project(1, 1, "acme-web"),
    project(2, 2, "other-web"),
    ...extra,
  ]);

describeEachDb("filters", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  const usernames = async () => (await rows(store, "auth_user")).map((u) => u.username);

  it("#22 import users --filter-usernames a,b imports only users a and b, plus rows that reference only them", async () => {
    const names = usernameSelection("a,b");
    const { pkMap, stats } = await importFile(store, abcExport(), {
      scope: "User",
      filterBy: usernameFilter(names!),
    });
    expect(await usernames()).toEqual(["a", "b"]);
    const a = pkMap.getPk("sentry.user", 1);
    const b = pkMap.getPk("sentry.user", 2);
    expect(pkMap.getPk("sentry.user", 3)).toBeNull();
    const options = await rows(store, "sentry_useroption");
    expect(options.map((o) => Number(o.user_id))).toEqual([a, b]);
    const userEmails = await rows(store, "sentry_useremail");
    expect(userEmails.map((e) => [Number(e.user_id), e.email]).sort()).toEqual([
      [a, "a@example.com"],
      [b, "b@example.com"],
    ]);
    expect((await rows(store, "sentry_email")).map((e) => e.email)).toEqual([
      "a@example.com",
      "b@example.com",
    ]);
    expect(stats.of("sentry.user").dropped).toEqual({ filtered: 1 });
    expect(stats.of("sentry.useroption").dropped).toEqual({
      "references a sentry.user that was not imported": 1,
    });
  });

  it('#23 --filter-usernames "a, b" does not import user b (no trimming: the value is " b")', async () => {
    const names = usernameSelection("a, b");
    expect(names).toEqual(new Set(["a", " b"]));
    await importFile(store, abcExport(), { scope: "User", filterBy: usernameFilter(names!) });
    expect(await usernames()).toEqual(["a"]);
  });

  it("#25 --filter-org-slugs acme imports org acme, its members' users, and no user who is not a member", async () => {
    const { pkMap } = await importFile(store, orgsExport(), {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
    });
    expect((await rows(store, "sentry_organization")).map((o) => o.slug)).toEqual(["acme"]);
    // u2 belongs to another organization; u3 only invited a member of acme.
    expect(await usernames()).toEqual(["u1", "u4"]);
    const acme = pkMap.getPk("sentry.organization", 1);
    const members = await rows(store, "sentry_organizationmember");
    expect(
      members.map((m) => [Number(m.organization_id), m.user_id === null ? null : Number(m.user_id)]),
    ).toEqual([
      [acme, pkMap.getPk("sentry.user", 1)],
      [acme, pkMap.getPk("sentry.user", 4)],
      [acme, null],
    ]);
    // The inviter who was not imported is forgotten; the invite sent by u1 keeps its inviter.
    expect(members.map((m) => (m.inviter_id === null ? null : Number(m.inviter_id)))).toEqual([
      null,
      null,
      pkMap.getPk("sentry.user", 1),
    ]);
  });

  it("#26 (relo differs from Sentry: keeps selected users' emails)", async () => {
    const { pkMap } = await importFile(store, orgsExport(), {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
    });
    const emails = await rows(store, "sentry_email");
    // u1's primary and secondary address and u4's address, all three read from the file.
    expect(emails.map((e) => e.email).sort()).toEqual([
      "u1-alt@example.com",
      "u1@example.com",
      "u4@example.com",
    ]);
    for (const e of emails) expect(new Date(e.date_added).toISOString()).toBe(FILE_DATE);
    expect(pkMap.getKind("sentry.email", 1)).toBe("Inserted");
    expect(pkMap.getPk("sentry.email", 3)).toBeNull();
    expect(pkMap.getPk("sentry.email", 6)).toBeNull();
    const u1 = pkMap.getPk("sentry.user", 1);
    const u4 = pkMap.getPk("sentry.user", 4);
    const userEmails = await rows(store, "sentry_useremail");
    const byAddress = (x: unknown[], y: unknown[]) => String(x[1]).localeCompare(String(y[1]));
    expect(userEmails.map((e) => [Number(e.user_id), e.email]).sort(byAddress)).toEqual([
      [u1, "u1-alt@example.com"],
      [u1, "u1@example.com"],
      [u4, "u4@example.com"],
    ]);
  });

  it("#27 a user-filtered import imports the sentry.email row equal to a selected user's email, and no others", async () => {
    const { pkMap } = await importFile(store, abcExport(), {
      scope: "User",
      filterBy: usernameFilter(["a"]),
    });
    const emails = await rows(store, "sentry_email");
    expect(emails.map((e) => e.email)).toEqual(["a@example.com"]);
    // The row came from the file (not created with the user): it kept the file's date.
    expect(new Date(emails[0].date_added).toISOString()).toBe(FILE_DATE);
    expect(pkMap.getKind("sentry.email", 1)).toBe("Inserted");
    for (const pk of [2, 3, 4]) expect(pkMap.getPk("sentry.email", pk)).toBeNull();
  });

  it("#28 a Project whose organization was filtered out is not imported and no error is raised", async () => {
    const { stats, pkMap } = await importFile(store, orgsExport(), {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
    });
    const projects = await rows(store, "sentry_project");
    expect(projects.map((p) => [p.slug, Number(p.organization_id)])).toEqual([
      ["acme-web", pkMap.getPk("sentry.organization", 1)],
    ]);
    expect(pkMap.getPk("sentry.project", 2)).toBeNull();
    expect(stats.of("sentry.project").dropped).toEqual({
      "references a sentry.organization that was not imported": 1,
    });
  });

  it("#29 a row whose nullable FK points to a filtered-out row is dropped (not imported with a null FK)", async () => {
    const path = orgsExport([
      userOption(1, 1, "no-org"),
      userOption(2, 1, "acme-option", { organization_id: 1 }),
      userOption(3, 1, "other-option", { organization_id: 2 }),
      {
        model: "sentry.rule",
        pk: 1,
        fields: { project: 1, label: "owned by acme member", data: "{}", owner_user_id: 1 },
      },
      {
        model: "sentry.rule",
        pk: 2,
        fields: { project: 1, label: "owned by outsider", data: "{}", owner_user_id: 2 },
      },
    ]);
    const { stats, pkMap } = await importFile(store, path, {
      scope: "Organization",
      filterBy: orgSlugFilter(["acme"]),
    });
    const options = await rows(store, "sentry_useroption");
    expect(
      options.map((o) => [o.key, o.organization_id === null ? null : Number(o.organization_id)]),
    ).toEqual([
      ["no-org", null],
      ["acme-option", pkMap.getPk("sentry.organization", 1)],
    ]);
    expect(stats.of("sentry.useroption").dropped).toEqual({
      "references a sentry.organization that was not imported": 1,
    });
    const rules = await rows(store, "sentry_rule");
    expect(rules.map((r) => [r.label, Number(r.owner_user_id)])).toEqual([
      ["owned by acme member", pkMap.getPk("sentry.user", 1)],
    ]);
    expect(stats.of("sentry.rule").dropped).toEqual({ "references a sentry.user that was not imported": 1 });
  });
});

describe("usernameSelection (src/cli/args.ts)", () => {
  const tempFile = (content: string) => {
    const path = join(mkdtempSync(join(tmpdir(), "relo-names-")), "names.txt");
    writeFileSync(path, content);
    return path;
  };

  it('#23 splits on "," without trimming', () => {
    expect(usernameSelection("a, b")).toEqual(new Set(["a", " b"]));
    expect(usernameSelection("a,b")).toEqual(new Set(["a", "b"]));
    expect(usernameSelection("")).toBeNull();
    expect(usernameSelection()).toBeNull();
  });

  it("#24 --filter-usernames together with --filter-usernames-file is a usage error naming --filter-usernames--file", () => {
    const file = tempFile("x\n");
    let caught: unknown;
    try {
      usernameSelection("x", file);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toBe(
      "`--filter-usernames` and `--filter-usernames--file` are mutually exclusive options - you may use one or the other, but not both.",
    );
  });

  it("a --filter-usernames-file with one name per line and a trailing newline yields exactly those names", () => {
    expect(usernameSelection(undefined, tempFile("alice\nbob\ncarol\n"))).toEqual(
      new Set(["alice", "bob", "carol"]),
    );
    expect(usernameSelection("", tempFile("alice\r\nbob\r\n"))).toEqual(new Set(["alice", "bob"]));
  });

  it("a --filter-usernames-file that names nobody is a usage error, not a selection of every user", () => {
    for (const text of ["", "\n", "\r\n\n", ","]) {
      const file = tempFile(text);
      expect(() => usernameSelection(undefined, file)).toThrow(
        new UsageError(`--filter-usernames-file ${file} names no users`),
      );
    }
  });
});
