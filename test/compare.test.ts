/**
 * `backup compare`: Sentry's validate() rules on hand-made exports (export-crypto-compare.md §5,
 * §6 and conformance items 35-51).
 */

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { instant } from "../src/backup/compare/comparators.js";
import { unifiedDiff } from "../src/backup/compare/diff.js";
import { compareTexts } from "./helpers/export.js";
import { fixture } from "./helpers/import.js";

type Row = { model: string; pk: number; fields: Record<string, unknown> };
const json = (rows: Row[]) => JSON.stringify(rows, null, 2);
const cmp = (l: Row[], r: Row[]) => compareTexts(json(l), json(r));

const user = (pk: number, username: string, extra: Record<string, unknown> = {}): Row => ({
  model: "sentry.user",
  pk,
  fields: { username, password: "pbkdf2$abc", is_unclaimed: false, last_active: null, ...extra },
});
const org = (pk: number, slug: string): Row => ({
  model: "sentry.organization",
  pk,
  fields: { slug, name: "Org" },
});
const team = (pk: number, orgPk: number, slug = "t"): Row => ({
  model: "sentry.team",
  pk,
  fields: { organization: orgPk, slug, name: "T" },
});
const option = (pk: number, key: string, value: unknown = '"v"'): Row => ({
  model: "sentry.option",
  pk,
  fields: { key, value, last_updated: "2023-01-01T00:00:00.000Z" },
});

describe("compare", () => {
  it("an export equals itself: no findings", async () => {
    const text = readFileSync(fixture("fresh-install.json"), "utf8");
    expect(await compareTexts(text, text)).toEqual([]);
  });

  it("unequal counts stop the comparison with UnequalCounts only", async () => {
    const f = await cmp([user(1, "a"), user(2, "b")], [user(1, "a", { name: "changed" })]);
    expect(f).toEqual([
      {
        finding: "ComparatorFinding",
        kind: "UnequalCounts",
        on: { model: "sentry.user", ordinal: null },
        left_pk: null,
        right_pk: null,
        reason: "counted 2 left entries and 1 right entries",
      },
    ]);
  });

  it("pks out of order give UnorderedInput, and nothing is compared", async () => {
    const f = await cmp([org(2, "b"), org(1, "a")], [org(1, "a"), org(2, "b")]);
    expect(f.map((x) => [x.kind, x.on.ordinal, x.left_pk, x.right_pk])).toEqual([
      ["UnorderedInput", 2, 1, null],
    ]);
    expect(f[0].reason).toBe(
      "instances not listed in ascending `pk` order; `pk` 1 is less than or equal to 2 which precedes it",
    );
  });

  it("duplicate custom ordinals are reported, except for useroption", async () => {
    const f = await cmp([option(1, "k"), option(2, "k")], [option(1, "k")]);
    expect(f.map((x) => x.kind)).toEqual(["DuplicateCustomOrdinal"]);
    expect(f[0].reason).toBe("custom ordinal value `('k',)` appears multiple times");
    const uo = (pk: number, v: string): Row => ({
      model: "sentry.useroption",
      pk,
      fields: { user: 1, key: "theme", value: v, organization_id: null, project_id: null },
    });
    expect(await cmp([user(1, "a"), uo(1, "x"), uo(2, "y")], [user(1, "a"), uo(5, "y")])).toEqual([]);
  });

  it("users pair by username, not pk; foreign keys compare by ordinal", async () => {
    const left = [user(1, "alice"), user(2, "bob"), org(1, "o"), team(1, 1)];
    const right = [user(7, "bob"), user(9, "alice"), org(4, "o"), team(3, 4)];
    expect(await cmp(left, right)).toEqual([]);
    const member = (pk: number, orgPk: number, userPk: number): Row => ({
      model: "sentry.organizationmember",
      pk,
      fields: { organization: orgPk, user_id: userPk, role: "member" },
    });
    const moved = await cmp([...left, member(1, 1, 1)], [...right, member(1, 4, 7)]);
    expect(moved.map((x) => x.kind)).toEqual(["ForeignKeyComparator"]);
    expect(moved[0].reason).toBe(
      "the left foreign key ordinal (1) for `user_id` was not equal to the right foreign key ordinal (2)",
    );
  });

  it("a member whose inviter is not in the export (relo keeps it) matches itself; an inviter missing on one side only is a finding", async () => {
    const member = (inviter: number | null): Row => ({
      model: "sentry.organizationmember",
      pk: 1,
      fields: { organization: 1, user_id: 1, inviter_id: inviter, role: "member" },
    });
    const base = [user(1, "alice"), org(1, "o")];
    expect(await cmp([...base, member(42)], [...base, member(42)])).toEqual([]);
    const oneSided = await cmp([...base, member(42)], [...base, member(1)]);
    expect(oneSided.map((x) => [x.kind, x.reason])).toEqual([
      [
        "ForeignKeyComparator",
        "the left foreign key ordinal for `inviter_id` model with pk `42` could not be found",
      ],
    ]);
  });

  it("an org slug may gain a dashed suffix, nothing else", async () => {
    expect(await cmp([org(1, "acme")], [org(1, "acme-x1y2")])).toEqual([]);
    const f = await cmp([org(1, "acme")], [org(1, "acmex")]);
    expect(f.map((x) => x.kind)).toEqual(["AutoSuffixComparator"]);
  });

  it("date_updated may move forward, not back; datetimes compare as instants", async () => {
    const integration = (d: string): Row => ({
      model: "sentry.integration",
      pk: 1,
      fields: {
        provider: "github",
        external_id: "1",
        name: "x",
        date_updated: d,
        date_added: "2023-01-01T00:00:00Z",
      },
    });
    expect(
      await cmp([integration("2023-01-01T00:00:00Z")], [integration("2024-01-01T00:00:00.000Z")]),
    ).toEqual([]);
    const f = await cmp([integration("2024-01-01T00:00:00Z")], [integration("2023-01-01T00:00:00Z")]);
    expect(f.map((x) => x.kind)).toEqual(["DateUpdatedComparator"]);
    const added = (d: string): Row => ({
      ...integration("2023-01-01T00:00:00Z"),
      fields: { ...integration("2023-01-01T00:00:00Z").fields, date_added: d },
    });
    expect(await cmp([added("2023-01-01T00:00:00Z")], [added("2023-01-01T00:00:00.000Z")])).toEqual([]);
    expect(
      (await cmp([added("2023-01-01T00:00:00Z")], [added("2023-01-01T00:00:01Z")])).map((x) => x.kind),
    ).toEqual(["DatetimeEqualityComparator"]);
  });

  it("project keys must be 32 lower-case hex characters; a missing left value is an existence finding", async () => {
    const key = (pub: string | null): Row => ({
      model: "sentry.projectkey",
      pk: 1,
      fields: { project: null, label: "k", public_key: pub, secret_key: "b".repeat(32), roles: "1" },
    });
    const bad = await cmp([key("NOTHEX")], [key("NOTHEX")]);
    expect(bad.filter((x) => x.kind === "SecretHexComparator")).toHaveLength(2);
    const missing = await cmp([key(null)], [key("a".repeat(32))]);
    expect(missing.map((x) => [x.kind, x.reason])).toContainEqual([
      "HashObfuscatingComparatorExistenceCheck",
      "the left `public_key` value was missing",
    ]);
  });

  it("hashes and emails are truncated in reasons", async () => {
    const token = (t: string): Row => ({
      model: "sentry.organizationmember",
      pk: 1,
      fields: { token: t, email: "alice@example.com" },
    });
    const f = await cmp(
      [token("abcdefghijklmnopqrstuvwxyz012345")],
      [token("zzzdefghijklmnopqrstuvwxyz012999")],
    );
    expect(f.map((x) => x.reason)).toContain(
      'the left value ("abc...345") of `token` was not equal to the right value ("zzz...999")',
    );
    const mail = (e: string): Row => ({ model: "sentry.organizationmember", pk: 1, fields: { email: e } });
    const g = await cmp([mail("alice@example.com")], [mail("bob@example.com")]);
    expect(g.map((x) => x.reason)).toEqual([
      'the left value ("a...@...le.com") of `email` was not equal to the right value ("b...@...le.com")',
    ]);
  });

  it("an unclaimed user must have a new password", async () => {
    const f = await cmp([user(1, "a")], [user(1, "a", { is_unclaimed: true })]);
    expect(f.map((x) => x.kind)).toEqual(["UserPasswordObfuscatingComparator"]);
    expect(await cmp([user(1, "a")], [user(1, "a", { is_unclaimed: true, password: "new" })])).toEqual([]);
  });

  it("ignored fields never differ; other differences are one UnequalJSON with a unified diff", async () => {
    const renamedRole = { ...team(1, 1), fields: { ...team(1, 1).fields, org_role: "x" } };
    expect(await cmp([org(1, "o"), team(1, 1)], [org(1, "o"), renamedRole])).toEqual([]);
    const f = await cmp([org(1, "o")], [{ ...org(1, "o"), fields: { slug: "o", name: "Renamed" } }]);
    expect(f.map((x) => [x.kind, x.on, x.left_pk, x.right_pk])).toEqual([
      ["UnequalJSON", { model: "sentry.organization", ordinal: 1 }, 1, 1],
    ]);
    expect(f[0].reason.startsWith("\n    --- ")).toBe(true);
    expect(f[0].reason).toContain('-  "name": "Org"');
    expect(f[0].reason).toContain('+  "name": "Renamed"');
  });

  it("100.0 and 100 are different JSON, as in Python", async () => {
    const l = `[{"model": "sentry.option", "pk": 1, "fields": {"key": "k", "value": 100.0}}]`;
    const r = `[{"model": "sentry.option", "pk": 1, "fields": {"key": "k", "value": 100}}]`;
    expect((await compareTexts(l, r)).map((x) => x.kind)).toEqual(["UnequalJSON"]);
    expect(await compareTexts(l, l)).toEqual([]);
  });

  it("a field the left export predates is no difference when the right holds its default", async () => {
    const app = (extra: Record<string, unknown>): Row => ({
      model: "sentry.apiapplication",
      pk: 1,
      fields: { name: "a", ...extra },
    });
    expect(await cmp([app({})], [app({ scopes: [] })])).toEqual([]);
    expect((await cmp([app({})], [app({ scopes: ["org:read"] })])).map((x) => x.kind)).toEqual([
      "UnequalJSON",
    ]);
  });
});

describe("compare helpers", () => {
  it("instants follow dateutil: offsets, microseconds, a missing fraction", () => {
    expect(instant("2023-01-01T00:00:00Z")).toBe(instant("2023-01-01T00:00:00.000000+00:00"));
    expect(instant("2023-01-01T01:00:00+01:00")).toBe(instant("2023-01-01T00:00:00Z"));
    expect(instant("2023-01-01T00:00:00.000001Z")).toBeGreaterThan(instant("2023-01-01T00:00:00Z"));
  });

  it("unified diff headers and ranges look like difflib's", () => {
    expect(unifiedDiff(["a", "b", "c"], ["a", "x", "c"])).toEqual([
      "--- \n",
      "+++ \n",
      "@@ -1,3 +1,3 @@\n",
      " a",
      "-b",
      "+x",
      " c",
    ]);
    expect(unifiedDiff(["a"], ["a"])).toEqual([]);
  });
});
