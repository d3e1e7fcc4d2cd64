/**
 * Sanitize's value mappers, datetime remapping and orjson output, one by one: each replacement
 * keeps the original's shape (length, character classes, address domain, IP version, UUID form),
 * equal originals get equal replacements, distinct originals distinct ones, and datetimes keep
 * their order.
 */
import { isIP } from "node:net";
import { describe, expect, it } from "vitest";
import { DatetimeCollector, formatDatetime, parseDatetime } from "../src/backup/sanitize/datetimes.js";
import { Layout, orjsonFloat, orjsonNumber } from "../src/backup/sanitize/format.js";
import { compressIpv6, Mappers, randomLike, slugify } from "../src/backup/sanitize/mappers.js";
import { Random } from "../src/backup/sanitize/random.js";
import { urlparse } from "../src/backup/sanitize/url.js";
import { ADJECTIVES, ANIMALS } from "../src/backup/sanitize/words.js";

const CLASSES = ["ABCDEF", "HIJKLMNOPQRSTUVWXYZ", "abcdef", "hijklmnopqrstuvwxyz", "0123456789"];

/** The characters a replacement of `s` may use: the classes `s` touches and its other ASCII. */
function allowed(s: string): Set<string> {
  const out = new Set<string>();
  for (const c of s) {
    const cls = CLASSES.find((k) => k.includes(c));
    if (cls) for (const d of cls) out.add(d);
    else if (c.charCodeAt(0) < 0x80) out.add(c);
  }
  return out;
}

describe("strings", () => {
  const random = new Random();

  it("keep their length in characters and draw only from the classes the original uses", () => {
    for (const s of [
      "pbkdf2_sha256$150000$iEvdIknqYjTr$+QsGn0t=",
      "c1373be35a7944808c8bcfede8097df1",
      "ABC-xyz 42!",
      "café ☕ 😀 ok",
    ]) {
      for (let i = 0; i < 20; i++) {
        const out = randomLike(s, random);
        expect([...out].length).toBe([...s].length);
        const pool = allowed(s);
        for (const c of out) expect(pool.has(c), `${c} in a replacement of ${s}`).toBe(true);
      }
    }
  });

  it("use every class present (upper/lower hex and non-hex letters, digits), given enough length", () => {
    const out = randomLike("Ah1".repeat(200), random);
    for (const cls of ["ABCDEF", "hijklmnopqrstuvwxyz", "0123456789"]) {
      expect([...out].some((c) => cls.includes(c))).toBe(true);
    }
    expect([...out].some((c) => "abcdefHIJKLMNOPQRSTUVWXYZ".includes(c))).toBe(false);
  });

  it("treat G and g as other characters (Sentry's classes skip them), and non-ASCII as nothing", () => {
    expect(new Set(randomLike("Gg".repeat(50), random))).toEqual(new Set(["G", "g"]));
    expect(randomLike("☕☕☕", random)).toMatch(/^[a-z]{3}$/);
    expect(randomLike("é1", random)).toMatch(/^\d\d$/);
  });

  it("are interned: an original always gets the same replacement; the empty string stays empty", () => {
    const m = new Mappers(random);
    const first = m.string("secret-value-1");
    expect(m.string("secret-value-1")).toBe(first);
    expect(m.string("secret-value-2")).not.toBe(first);
    expect(m.string("")).toBe("");
  });

  it("stay distinct, even in a tiny space, and differ from the original", () => {
    const m = new Mappers(random);
    const letters = ["a", "b", "c", "d", "e", "f"];
    expect(new Set(letters.map((l) => m.string(l))).size).toBe(6);
    const pairs = Array.from({ length: 30 }, (_, i) => `${"abcdef"[i % 6]}${"abcdef"[Math.floor(i / 6)]}`);
    const out = pairs.map((p) => m.string(p));
    expect(new Set(out).size).toBe(30);
    for (const [i, p] of pairs.entries()) expect(out[i]).not.toBe(p);
  });
});

describe("emails", () => {
  it("map the local part and the domain separately: one domain, one new domain", () => {
    const m = new Mappers(new Random());
    const a = m.email("alice@example.com");
    const b = m.email("bob@example.com");
    const c = m.email("carol@other.org");
    const domain = (s: string) => s.split("@")[1];
    expect(domain(a)).toBe(domain(b));
    expect(domain(a)).not.toBe(domain(c));
    expect(domain(a)).toHaveLength("example.com".length);
    expect(a.split("@")[0]).toHaveLength(5);
    expect(m.email("alice@example.com")).toBe(a);
    expect(a).not.toContain("alice");
  });

  it("map anything that is not local@domain as a whole string", () => {
    const m = new Mappers(new Random());
    for (const s of ["@example.com", "alice@", "a@b@c", "no-at-sign"]) {
      const out = m.email(s);
      expect(out).toHaveLength(s.length);
      expect(out).toBe(m.string(s));
    }
  });

  it("never collapse: six one-letter addresses of a domain stay six addresses", () => {
    const m = new Mappers(new Random());
    const out = ["a", "b", "c", "d", "e", "f"].map((l) => m.email(`${l}@x.io`));
    expect(new Set(out).size).toBe(6);
  });
});

describe("IP addresses", () => {
  it("stay in their version, are interned, and anything else is mapped as a string", () => {
    const m = new Mappers(new Random());
    for (let i = 0; i < 50; i++) {
      expect(isIP(m.ip(`10.0.${i}.1`))).toBe(4);
      const v6 = m.ip(`2001:db8::${i.toString(16)}`);
      expect(isIP(v6)).toBe(6);
      expect(v6).toBe(v6.toLowerCase());
    }
    expect(m.ip("10.0.0.1")).toBe(m.ip("10.0.0.1"));
    expect(m.ip("10.0.0.1")).not.toBe("10.0.0.1");
    expect(m.ip("not-an-ip")).toBe(m.string("not-an-ip"));
  });

  it("write IPv6 as Python does: the first longest run of zero groups as ::", () => {
    expect(compressIpv6(["0", "0", "0", "0", "0", "0", "0", "1"])).toBe("::1");
    expect(compressIpv6(["1", "0", "0", "2", "0", "0", "0", "3"])).toBe("1:0:0:2::3");
    expect(compressIpv6(["1", "0", "0", "2", "0", "0", "3", "4"])).toBe("1::2:0:0:3:4");
    expect(compressIpv6(["1", "0", "2", "3", "4", "5", "6", "7"])).toBe("1:0:2:3:4:5:6:7");
    expect(compressIpv6(["fe80", "0", "0", "0", "0", "0", "0", "0"])).toBe("fe80::");
  });
});

describe("URLs", () => {
  it("are split as Python splits them", () => {
    expect(urlparse("HTTPS://User:Pw@Example.COM:8080/a/b.c;p?x=1.y#frag")).toEqual({
      scheme: "https",
      netloc: "User:Pw@Example.COM:8080",
      path: "/a/b.c",
      params: "p",
      query: "x=1.y",
      fragment: "frag",
      hostname: "example.com",
    });
    expect(urlparse("http://[::1]:80/x")?.hostname).toBe("::1");
    expect(urlparse("example.com/path")?.hostname).toBeNull();
    expect(urlparse("http://[::1/x")).toBeNull();
  });

  it("keep their shape: host labels, path pieces and query pieces mapped; user, password and port dropped", () => {
    const m = new Mappers(new Random());
    const old = "https://user:pw@Example.COM:8080/a/b.c;p?x=1.y#frag";
    const out = m.url(old);
    const u = urlparse(out);
    expect(u).not.toBeNull();
    expect(u?.netloc).not.toContain("@");
    expect(u?.netloc).not.toContain(":");
    expect(u?.hostname?.split(".")).toHaveLength(2);
    expect(u?.scheme).toMatch(/^[a-z]{5}$/);
    expect(u?.path.startsWith("/")).toBe(true);
    expect(u?.path.split(".")).toHaveLength(2);
    expect(out).toContain(";p?"); // kept (the new scheme is not one Python splits params for)
    expect(u?.query.split(".")).toHaveLength(2);
    expect(u?.fragment).toHaveLength(4);
    expect(out.length).toBeLessThanOrEqual(old.length);
    for (const part of ["user", "example", "8080", "frag"]) expect(out.toLowerCase()).not.toContain(part);
  });

  it("share mapped hosts, and map a value without a host as a string", () => {
    const m = new Mappers(new Random());
    const a = urlparse(m.url("https://example.com/one"));
    const b = urlparse(m.url("http://sub.example.com"));
    expect(b?.hostname?.endsWith(a?.hostname as string)).toBe(true);
    expect(m.url("not a url")).toBe(m.string("not a url"));
  });

  it("are never longer than the original (the path keeps its leading slash)", () => {
    const m = new Mappers(new Random());
    for (let i = 0; i < 200; i++) {
      const old = `https://example.com/some/path-${i}/file.txt?a=${i}`;
      expect(m.url(old).length).toBe(old.length);
    }
  });
});

describe("UUIDs", () => {
  it("become fresh version-4 UUIDs in the original's form; anything else is not a UUID", () => {
    const m = new Mappers(new Random());
    const hyphenated = "541d8473-0a90-4a4e-b536-704f223521b0";
    const out = m.uuid(hyphenated) as string;
    expect(out).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(out).not.toBe(hyphenated);
    expect(m.uuid(hyphenated)).toBe(out);
    expect(m.uuid("541D84730A904A4EB536704F223521B1")).toMatch(/^[0-9a-f]{12}4[0-9a-f]{19}$/);
    expect(m.uuid("{541d8473-0a90-4a4e-b536-704f223521b2}")).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.uuid("uuid-sentryapp-0-3c58")).toBeNull();
  });
});

describe("names", () => {
  it("become a Title Case adjective and animal, each at most as long as the original", () => {
    const m = new Mappers(new Random());
    for (const old of ["Testing", "Internal", "Acme Corporation", "Jo"]) {
      const name = m.name(old);
      const [adjective, animal, ...rest] = name.split(" ");
      expect(rest).toEqual([]);
      expect(ADJECTIVES).toContain(adjective.toLowerCase());
      expect(ANIMALS).toContain(animal.toLowerCase());
      expect(name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      const limit = Math.max(old.length, 3);
      expect(adjective.length).toBeLessThanOrEqual(limit);
      expect(animal.length).toBeLessThanOrEqual(limit);
      expect(m.name(old)).toBe(name);
    }
    expect(m.name("")).toBe("");
  });

  it("stay distinct when more originals share a length than there are short word pairs", () => {
    const m = new Mappers(new Random());
    const shortPairs =
      ADJECTIVES.filter((w) => w.length <= 3).length * ANIMALS.filter((w) => w.length <= 3).length;
    const originals = Array.from({ length: shortPairs + 50 }, (_, i) => i.toString(36).padStart(3, "0"));
    const names = originals.map((o) => m.name(o));
    expect(new Set(names).size).toBe(originals.length);
  });

  it("give slugs that are the new name slugified, distinct per original slug", () => {
    const m = new Mappers(new Random());
    const name = m.name("Backend");
    expect(m.slug("sentry.team", "backend", name)).toBe(slugify(name));
    expect(m.slug("sentry.team", "backend", name)).toBe(slugify(name));
    expect(m.slug("sentry.team", "backend-2", name)).toBe(`${slugify(name)}-2`);
    expect(m.slug("sentry.project", "backend-2", name)).toBe(slugify(name));
  });

  it("slugify as Django does", () => {
    expect(slugify("Brave Otter")).toBe("brave-otter");
    expect(slugify("Crème brûlée!")).toBe("creme-brulee");
    expect(slugify("  --a_b  c--  ")).toBe("a_b-c");
  });
});

describe("datetimes", () => {
  it("parse ISO-8601 to microseconds, zones converted, a missing zone taken as UTC", () => {
    const base = Date.UTC(2023, 5, 22, 22, 59, 55) * 1000;
    expect(parseDatetime("2023-06-22T22:59:55Z")).toBe(base);
    expect(parseDatetime("2023-06-22T22:59:55.531Z")).toBe(base + 531_000);
    expect(parseDatetime("2023-06-22T22:59:55.531123+00:00")).toBe(base + 531_123);
    expect(parseDatetime("2023-06-23T00:59:55+02:00")).toBe(base);
    expect(parseDatetime("2023-06-22 22:59:55")).toBe(base);
    for (const bad of ["2023-02-30T00:00:00Z", "1", "23.6.1", "yesterday", "2023-06-22T25:00:00Z"]) {
      expect(parseDatetime(bad)).toBeNull();
    }
  });

  it("keep their order, each within halfway to its neighbours, shifted by the offset", () => {
    const random = new Random();
    const originals: number[] = [];
    let t = Date.UTC(2024, 0, 1) * 1000;
    for (let i = 0; i < 500; i++) {
      t += random.below(3) === 0 ? 1000 : random.below(1e9); // close pairs and far gaps
      originals.push(t);
    }
    for (const days of [0, 10, -1234]) {
      const collector = new DatetimeCollector();
      for (const v of [...originals].reverse()) collector.add(v);
      collector.add(originals[0]); // duplicates count once
      const map = collector.build(random, days);
      expect(map.size).toBe(originals.length);
      const mapped = originals.map((v) => map.map(v));
      for (let i = 0; i < originals.length; i++) {
        const ms = (k: number) => Math.trunc(originals[k] / 1000);
        const prev = ms(Math.max(i - 1, 0));
        const next = ms(Math.min(i + 1, originals.length - 1));
        const shifted = mapped[i] - days * 86_400_000;
        expect(shifted).toBeGreaterThanOrEqual(Math.trunc((ms(i) - prev) / 2) + prev);
        expect(shifted).toBeLessThanOrEqual(Math.trunc((next - ms(i)) / 2) + ms(i));
        if (i > 0) expect(mapped[i]).toBeGreaterThanOrEqual(mapped[i - 1]);
      }
      expect(originals.map((v) => map.map(v))).toEqual(mapped);
    }
  });

  it("refuse an offset that leaves Python's years 1 to 9999", () => {
    const collector = new DatetimeCollector();
    collector.add(Date.UTC(2024, 0, 1) * 1000);
    const map = collector.build(new Random(), 3_000_000);
    expect(() => map.map(Date.UTC(2024, 0, 1) * 1000)).toThrow(
      /--days-offset 3000000 moves .* outside the years 1 to 9999/,
    );
  });

  it("are written as orjson writes UTC datetimes: six fraction digits or none", () => {
    const ms = Date.UTC(2023, 5, 22, 22, 59, 55, 531);
    expect(formatDatetime(ms, true)).toBe("2023-06-22T22:59:55.531000Z");
    expect(formatDatetime(ms, false)).toBe("2023-06-22T22:59:55.531000+00:00");
    expect(formatDatetime(ms - 531, true)).toBe("2023-06-22T22:59:55Z");
    expect(formatDatetime(ms - 531, false)).toBe("2023-06-22T22:59:55+00:00");
  });
});

describe("orjson output", () => {
  it("writes floats as orjson 3.8 does (values checked with orjson.dumps)", () => {
    const expected: [number, string][] = [
      [100.0, "100.0"],
      [1e16, "1e16"],
      [1.5e-7, "1.5e-7"],
      [1e-4, "0.0001"],
      [1e-5, "0.00001"],
      [1e-6, "1e-6"],
      [1.23e-5, "0.0000123"],
      [9.9e15, "9900000000000000.0"],
      [1.2345678901234568e17, "1.2345678901234568e17"],
      [0.1, "0.1"],
      [-0.0, "-0.0"],
      [0.0, "0.0"],
      [-2.5, "-2.5"],
      [1e22, "1e22"],
      [1.7976931348623157e308, "1.7976931348623157e308"],
      [5e-324, "5e-324"],
      [12345678.9, "12345678.9"],
      [1e15, "1000000000000000.0"],
      [1687902001.2623305, "1687902001.2623305"],
    ];
    for (const [n, text] of expected) expect(orjsonFloat(n)).toBe(text);
    expect(orjsonNumber("100.0")).toBe("100.0");
    expect(orjsonNumber("1E5")).toBe("100000.0");
    expect(orjsonNumber("123456789012345678901234567890")).toBe("123456789012345678901234567890");
  });

  it("lays JSON out as orjson's OPT_INDENT_2 and compact forms do (checked with orjson.dumps)", () => {
    const text =
      '{ "z" : {}, "w":[ ], "v":[1, {"a":null, "b": true}], "s": "\\u00e9\\/\\n\\u001f\\"" , "n": 1e16}';
    expect(new Layout(2).relayout(text, 0)).toBe(
      '{\n  "z": {},\n  "w": [],\n  "v": [\n    1,\n    {\n      "a": null,\n      "b": true\n    }\n  ],\n  "s": "é/\\n\\u001f\\"",\n  "n": 1e16\n}',
    );
    expect(new Layout(null).relayout(text, 0)).toBe(
      '{"z":{},"w":[],"v":[1,{"a":null,"b":true}],"s":"é/\\n\\u001f\\"","n":1e16}',
    );
  });
});
