/**
 * Small pieces the models' relocation hooks share.
 */
import { pbkdf2Sync, randomBytes, randomInt } from "node:crypto";
import type { ImportContext, PendingRow } from "../backup/import/context.js";

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** Random letters and digits, like Sentry's get_secure_token / Django's get_random_string. */
export function randomAlnum(length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += ALNUM[randomInt(ALNUM.length)];
  return out;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString("hex");
}

/**
 * A Django `pbkdf2_sha256` hash of a fresh 32-character random password that is never stored or
 * shown: the account can only be claimed through the lost-password flow. The password carries
 * 190 bits of entropy, so a low iteration count costs no security and keeps large imports fast.
 */
export function unknownPasswordHash(): string {
  const iterations = 1000;
  const salt = randomAlnum(22);
  const hash = pbkdf2Sync(randomAlnum(32), salt, iterations, 32, "sha256").toString("base64");
  return `pbkdf2_sha256$${iterations}$${salt}$${hash}`;
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
