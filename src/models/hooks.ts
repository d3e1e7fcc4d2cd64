/**
 * Small pieces the models' relocation hooks share.
 */
import { randomFillSync } from "node:crypto";
import type { ImportContext, PendingRow } from "../backup/import/context.js";

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

// Random bytes are drawn 4 KiB at a time: one randomInt() call per character cost more than the
// rest of a token's handling.
const pool = Buffer.alloc(4096);
let poolAt = pool.length;

/** Random letters and digits, like Sentry's get_secure_token / Django's get_random_string. */
export function randomAlnum(length: number): string {
  let out = "";
  while (out.length < length) {
    if (poolAt === pool.length) {
      randomFillSync(pool);
      poolAt = 0;
    }
    const byte = pool[poolAt++];
    // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
    if (byte < 248) out += ALNUM[byte % 62];
  }
  return out;
}

/**
 * Django's unusable-password marker (`!` and 40 random characters), which no password verifies.
 * Sentry gives unclaimed accounts a random password nobody knows; the effect is the same (the
 * owner must claim the account through the lost-password flow), without hashing a throwaway
 * password per user (pbkdf2 took 60% of an import's time in the benchmark).
 */
export function unusablePassword(): string {
  return `!${randomAlnum(40)}`;
}

/** True when the row's user (through field `field`, old pk) was merged into an existing user. */
export function belongsToMergedUser(row: PendingRow, ctx: ImportContext, field = "user"): boolean {
  const old = row.source[field];
  return typeof old === "number" && ctx.pkMap.getKind("sentry.user", old) === "Existing";
}

/** Option values are stored JSON-encoded (`"\"https://x\""`); this returns the decoded value. */
export function decodeOptionValue(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
