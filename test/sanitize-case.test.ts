/**
 * Addresses (and usernames) are unique ignoring letter case: sanitize never gives two of them
 * replacements that are equal ignoring case, so a sanitized export imports as many address rows
 * as the original (none "taken over"), and an address written in two cases still maps to one
 * address in two cases. Runs are seeded, so each test draws the same values every time; a space
 * too small for every original ends replacements in a counter rather than repeating one.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { Mappers } from "../src/backup/sanitize/mappers.js";
import { Random } from "../src/backup/sanitize/random.js";
import { sanitizeExport } from "../src/backup/sanitize/run.js";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { count, importFile, writeExport } from "./helpers/import.js";

/** Deterministic draws (mulberry32) for the values sanitize makes. */
class SeededRandom extends Random {
  private state: number;

  constructor(seed: number) {
    super();
    this.state = seed >>> 0;
  }

  override below(n: number): number {
    return n <= 1 ? 0 : Math.floor(this.next() * n);
  }

  override bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.below(256)));
  }

  private next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
}

/** Always the first value of a range: every string of one shape draws the same replacement. */
class StuckRandom extends Random {
  override below(): number {
    return 0;
  }
}

/**
 * Every two-letter local part over a-f, distinct ignoring case, in mixed case (`aB`, `Cd`, ...):
 * 21 originals for the 36 replacements two such letters can make ignoring case.
 */
function mixedCaseLocals(): string[] {
  const out: string[] = [];
  const letters = "abcdef";
  for (let i = 0; i < 6; i++) {
    for (let j = i; j < 6; j++) {
      const pair = letters[i] + letters[j];
      out.push((i + j) % 2 === 0 ? pair[0].toUpperCase() + pair[1] : pair[0] + pair[1].toUpperCase());
    }
  }
  return out;
}

const lower = (s: string) => s.toLowerCase();

describe("replacements of strings", () => {
  it("differ ignoring case when their originals do", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const m = new Mappers(new SeededRandom(seed));
      const addresses = mixedCaseLocals().map((l) => m.email(`${l}@x.io`));
      expect(new Set(addresses.map(lower)).size, `seed ${seed}: ${addresses.join(" ")}`).toBe(
        addresses.length,
      );
    }
  });

  it("of A@x.io ... E@x.io and f@x.io stay six addresses ignoring case", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const m = new Mappers(new SeededRandom(seed));
      const addresses = ["A", "B", "C", "D", "E", "f"].map((l) => m.email(`${l}@x.io`));
      expect(new Set(addresses.map(lower)).size, `seed ${seed}: ${addresses.join(" ")}`).toBe(6);
    }
  });

  it("of one original in two cases are one replacement in the two cases", () => {
    const m = new Mappers(new SeededRandom(7));
    const first = m.email("alice.smith@acme-corp.com");
    const upper = m.email("Alice.Smith@ACME-corp.com");
    expect(upper).not.toBe(first);
    expect(lower(upper)).toBe(lower(first));
    expect(upper.startsWith(first[0].toUpperCase())).toBe(true);
    expect(m.email("alice.smith@acme-corp.com")).toBe(first);
    expect(m.email("Alice.Smith@ACME-corp.com")).toBe(upper);
  });

  it("never repeat, even when every draw gives a value another original has", () => {
    const m = new Mappers(new StuckRandom());
    const originals = ["A", "B", "C", "D", "ab", "cd", "ef"];
    const out = originals.map((s) => m.string(s));
    expect(new Set(out.map(lower)).size, out.join(" ")).toBe(originals.length);
    for (const [i, s] of out.entries()) expect(s).toHaveLength(originals[i].length);
    const addresses = ["A", "B", "C"].map((l) => m.email(`${l}@x.io`));
    expect(new Set(addresses.map(lower)).size).toBe(3);
  });

  it("of originals that differ only where the replacement has digits stay distinct", () => {
    // `0a` and `0A` differ only in case, and in the same case `0a`'s replacement `00` has none.
    const m = new Mappers(new StuckRandom());
    const out = ["0a", "0A"].map((s) => m.string(s));
    expect(out[0]).not.toBe(out[1]);
  });
});

async function sanitize(rows: unknown[], seed: number): Promise<string> {
  const source = {
    async *open() {
      yield Buffer.from(JSON.stringify(rows), "utf8");
    },
  };
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  await sanitizeExport(source, sink, { random: new SeededRandom(seed) });
  sink.end();
  return Buffer.concat(chunks).toString("utf8");
}

/** A user and its address rows for each address. */
function usersWith(addresses: string[]): unknown[] {
  return addresses.flatMap((email, i) => [
    { model: "sentry.email", pk: i + 1, fields: { email, date_added: "2024-01-01T00:00:00.000Z" } },
    {
      model: "sentry.user",
      pk: i + 1,
      fields: {
        password: "",
        username: `user${i}`,
        name: "",
        email,
        date_joined: "2024-01-01T00:00:00.000Z",
      },
    },
    {
      model: "sentry.useremail",
      pk: i + 1,
      fields: { user: i + 1, email, validation_hash: "abc", is_verified: true },
    },
  ]);
}

describeEachDb("a sanitized export of addresses distinct ignoring case", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  it("imports every address row: none is taken over by another", async () => {
    const addresses = mixedCaseLocals().map((l) => `${l}@x.io`);
    const sanitized = await sanitize(usersWith(addresses), 3);
    await importFile(store, writeExport(sanitized), { scope: "Global" });
    expect(await count(store, "sentry_email")).toBe(addresses.length);
    expect(await count(store, "sentry_useremail")).toBe(addresses.length);
    const users = await store.db.selectFrom("auth_user").select("email").execute();
    expect(new Set(users.map((u) => lower(u.email as string))).size).toBe(addresses.length);
  });
});
