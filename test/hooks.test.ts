/**
 * Random tokens: the right length and alphabet, every character equally likely.
 */
import { expect, it } from "vitest";
import { randomAlnum, unusablePassword } from "../src/models/hooks.js";

it("randomAlnum draws uniformly from letters and digits", () => {
  const counts = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const token = randomAlnum(31);
    expect(token).toMatch(/^[A-Za-z0-9]{31}$/);
    for (const c of token) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  expect(counts.size).toBe(62);
  // 62,000 draws: 1000 expected per character; a biased modulo would skew the first 8 by ~25%.
  for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(200);
  expect(randomAlnum(32)).not.toBe(randomAlnum(32));
});

it("unusablePassword is Django's marker", () => {
  expect(unusablePassword()).toMatch(/^![A-Za-z0-9]{40}$/);
});
