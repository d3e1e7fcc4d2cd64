import { describe, expect, it } from "vitest";
import { PrimaryKeyMap } from "../src/backup/pkmap.js";
import { PkSet } from "../src/backup/pkset.js";

describe("PrimaryKeyMap", () => {
  it("maps runs of consecutive pks and single entries alike", () => {
    const m = new PrimaryKeyMap();
    for (let i = 1; i <= 100; i++) m.insert("sentry.user", i, 1000 + i, "Inserted");
    m.insert("sentry.user", 200, 5, "Existing");
    m.insert("sentry.user", 150, 7, "Inserted");
    expect(m.getPk("sentry.user", 50)).toBe(1050);
    expect(m.getKind("sentry.user", 50)).toBe("Inserted");
    expect(m.getPk("sentry.user", 200)).toBe(5);
    expect(m.getKind("sentry.user", 200)).toBe("Existing");
    expect(m.getPk("sentry.user", 150)).toBe(7);
    expect(m.getPk("sentry.user", 101)).toBeNull();
    expect(m.getPk("sentry.team", 1)).toBeNull();
    expect(m.size("sentry.user")).toBe(102);
  });

  it("overwrites an entry inside a run without disturbing its neighbours", () => {
    const m = new PrimaryKeyMap();
    for (let i = 1; i <= 10; i++) m.insert("sentry.user", i, 100 + i, "Inserted");
    m.insert("sentry.user", 5, 9, "Overwrite");
    expect(m.getPk("sentry.user", 4)).toBe(104);
    expect(m.getPk("sentry.user", 5)).toBe(9);
    expect(m.getKind("sentry.user", 5)).toBe("Overwrite");
    expect(m.getPk("sentry.user", 6)).toBe(106);
    expect(m.size("sentry.user")).toBe(10);
    expect(new Map(m.entries("sentry.user")).get(10)?.pk).toBe(110);
  });

  it("keeps slugs", () => {
    const m = new PrimaryKeyMap();
    m.insert("sentry.organization", 1, 2, "Inserted", "acme");
    expect(m.getSlug("sentry.organization", 1)).toBe("acme");
    const other = new PrimaryKeyMap();
    other.extend(m);
    expect(other.getSlug("sentry.organization", 1)).toBe("acme");
  });
});

describe("PkSet", () => {
  it("holds ascending runs and out-of-order pks", () => {
    const s = new PkSet();
    for (const pk of [1, 2, 3, 10, 11, 5, 2]) s.add(pk);
    for (const pk of [1, 2, 3, 5, 10, 11]) expect(s.has(pk)).toBe(true);
    for (const pk of [0, 4, 6, 9, 12]) expect(s.has(pk)).toBe(false);
  });
});
