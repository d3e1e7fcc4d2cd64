/**
 * The batch lookups relocation hooks use to find collisions (src/backup/import/lookup.ts). On
 * PostgreSQL each kind of value takes its own query shape (id ranges, a LATERAL index probe per
 * value, or a plain IN list where no index leads with the column); every shape must find exactly
 * what a plain IN list finds.
 */
import { beforeEach, expect, it } from "vitest";
import { idsByValue, rowsByValue } from "../src/backup/import/lookup.js";
import { insertFields } from "../src/backup/import/write.js";
import { organization } from "../src/models/organizations.js";
import { email, user, userEmail } from "../src/models/users.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";

const NOW = "2024-01-01T00:00:00.000Z";

describeEachDb("batch lookups", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  async function addUsers(n: number): Promise<number[]> {
    const fields = Array.from({ length: n }, (_, i) => ({
      password: "!",
      username: `u${i}`,
      name: "",
      email: `U${i}@Example.com`,
      is_staff: false,
      is_active: true,
      is_unclaimed: false,
      is_superuser: false,
      is_managed: false,
      is_password_expired: false,
      date_joined: NOW,
      avatar_type: 0,
    }));
    return store.transaction(() => insertFields(store, user, fields));
  }

  beforeEach(async () => {
    await store.migrate();
  });

  it("ids: contiguous runs, gaps, many runs (more than a range query takes) and unknown ids", async () => {
    const ids = await addUsers(300);
    const contiguous = ids.slice(10, 60);
    const withGaps = [ids[0], ids[2], ids[4], ...ids.slice(100, 110)];
    const scattered = ids.filter((_, i) => i % 3 === 0); // 100 runs
    for (const wanted of [contiguous, withGaps, scattered, [...scattered, 999_999, -5]]) {
      const found = await rowsByValue(store, user, "id", wanted, ["id", "username"]);
      const expected = wanted.filter((id) => ids.includes(id)).sort((a, b) => a - b);
      expect(found.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(expected);
      expect(Object.keys(found[0]).sort()).toEqual(["id", "username"]);
      const byId = await idsByValue(store, user, "id", wanted);
      expect([...byId.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(expected);
      for (const [k, v] of byId) expect(v).toBe(k);
    }
  });

  it("case-insensitive values through the lower() index, keyed by the lower-cased value; nulls are ignored", async () => {
    const [a, b] = await store.transaction(() =>
      insertFields(store, email, [
        { email: "Alice@Example.com", date_added: NOW },
        { email: "bob@example.com", date_added: NOW },
      ]),
    );
    const found = await idsByValue(
      store,
      email,
      "email",
      ["ALICE@example.com", "BOB@EXAMPLE.COM", "nobody@x", null],
      {
        lower: true,
      },
    );
    expect(found).toEqual(
      new Map([
        ["alice@example.com", a],
        ["bob@example.com", b],
      ]),
    );
  });

  it("a value held by several rows maps to the lowest id, on an indexed and on an unindexed column", async () => {
    const orgs = await store.transaction(() =>
      insertFields(
        store,
        organization,
        ["x", "y", "z"].map((slug) => ({
          name: "Same name",
          slug,
          status: 0,
          date_added: NOW,
          default_role: "member",
          is_test: false,
          flags: 1,
        })),
      ),
    );
    expect(await idsByValue(store, organization, "name", ["Same name", "Other"])).toEqual(
      new Map([["Same name", Math.min(...orgs)]]),
    );
    const users = await addUsers(3);
    await store.transaction(() =>
      insertFields(
        store,
        userEmail,
        users.flatMap((u) =>
          ["a@x", "b@x"].map((address) => ({
            user: u,
            email: address,
            validation_hash: "v".repeat(32),
            date_hash_added: NOW,
            is_verified: false,
          })),
        ),
      ),
    );
    const owned = await rowsByValue(store, userEmail, "user_id", [users[0], users[2]], ["user_id", "email"]);
    expect(owned.map((r) => `${Number(r.user_id)}:${r.email}`).sort()).toEqual(
      [`${users[0]}:a@x`, `${users[0]}:b@x`, `${users[2]}:a@x`, `${users[2]}:b@x`].sort(),
    );
    const first = await idsByValue(store, userEmail, "email", ["a@x"]);
    const all = await rowsByValue(store, userEmail, "email", ["a@x"], ["id"]);
    expect(first.get("a@x")).toBe(Math.min(...all.map((r) => Number(r.id))));
  });

  it("more values than one query takes are looked up in several", async () => {
    const ids = await addUsers(12);
    const names = [...Array.from({ length: 6000 }, (_, i) => `missing-${i}`), "u3", "u11"];
    const found = await idsByValue(store, user, "username", names);
    expect(found).toEqual(
      new Map([
        ["u3", ids[3]],
        ["u11", ids[11]],
      ]),
    );
  });
});
