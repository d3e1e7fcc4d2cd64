/**
 * User-side models of Sentry's control silo. Field lists follow the late-2024 schema that
 * fixtures/backup/model_dependencies/detailed.json (3f5fd083) describes: e.g. email columns are
 * still 75 chars and `auth_user` has no `email_unique` column yet (both arrived in 2025).
 */
import { isIP } from "node:net";
import { sql } from "kysely";
import type { ImportContext, PendingRow, WriteResult } from "../backup/import/context.js";
import { FieldError } from "../backup/import/deserialize.js";
import { idsByValue, insertFields, replaceOrInsert, rowsByValue } from "../backup/import/write.js";
import { makeUnique } from "../control/unique.js";
import { f } from "./fields.js";
import { belongsToMergedUser, randomAlnum, unusablePassword } from "./hooks.js";
import { lostPasswordHash } from "./internal.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

/** Same shape as Sentry's get_secure_token: 32 random ASCII letters/digits. */
const secureToken = () => randomAlnum(32);

// src/sentry/users/models/user.py @ 32a96bf9 (password/last_login come from Django's AbstractBaseUser)
export const user: ModelDef = {
  name: "sentry.user",
  table: "auth_user",
  silos: ["Control"],
  scope: "User",
  fields: [
    f.string("password", 128),
    f.datetime("last_login", { nullable: true }),
    f.string("username", 128),
    f.string("name", 200, { column: "first_name" }),
    f.string("email", 75),
    f.bool("is_staff", { default: false }),
    f.bool("is_active", { default: true }),
    f.bool("is_unclaimed", { default: false }),
    f.bool("is_superuser", { default: false }),
    f.bool("is_managed", { default: false }),
    f.bool("is_sentry_app", { nullable: true, default: null }),
    f.bool("is_password_expired", { default: false }),
    f.datetime("last_password_change", { nullable: true }),
    // bitfield_null=True in the late-2024 model; dropped later
    f.bitfield("flags", { nullable: true, default: "0" }),
    f.string("session_nonce", 12, { nullable: true }),
    f.datetime("date_joined", { default: now }),
    f.datetime("last_active", { nullable: true, default: now }),
    f.int("avatar_type", { default: 0 }),
    f.string("avatar_url", 120, { nullable: true }),
  ],
  uniques: [["username"]],
};

// src/sentry/users/models/email.py @ 8e88e959 (CIEmailField: a citext column, so the unique index ignores case)
export const email: ModelDef = {
  name: "sentry.email",
  table: "sentry_email",
  silos: ["Control"],
  scope: "User",
  fields: [f.string("email", 75, { caseInsensitive: true }), f.datetime("date_added", { default: now })],
  uniques: [["email"]],
  relocationDependencies: ["sentry.user"],
  dangling: true,
};

// src/sentry/users/models/useremail.py @ 847e609d (plain EmailField: its unique pair is case-sensitive)
export const userEmail: ModelDef = {
  name: "sentry.useremail",
  table: "sentry_useremail",
  silos: ["Control"],
  scope: "User",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.string("email", 75),
    f.string("validation_hash", 32, { default: secureToken }),
    f.datetime("date_hash_added", { default: now }),
    f.bool("is_verified", { default: false }),
  ],
  uniques: [["email", "user"]],
  relocationDependencies: ["sentry.email"],
};

// src/sentry/users/models/user_option.py @ c002a564 (value was a PickledObjectField, JSON-encoded)
export const userOption: ModelDef = {
  name: "sentry.useroption",
  table: "sentry_useroption",
  silos: ["Control"],
  scope: "User",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.fk("project_id", "sentry.project", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("organization_id", "sentry.organization", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.string("key", 64),
    f.json("value"),
  ],
  uniques: [
    ["key", "organization_id", "user"],
    ["key", "project_id", "user"],
  ],
};

// src/sentry/users/models/userip.py @ 888b389c
export const userIp: ModelDef = {
  name: "sentry.userip",
  table: "sentry_userip",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.ip("ip_address"),
    f.string("country_code", 16, { nullable: true }),
    f.string("region_code", 16, { nullable: true }),
    f.datetime("first_seen", { default: now }),
    f.datetime("last_seen", { default: now }),
  ],
  uniques: [["ip_address", "user"]],
};

// src/sentry/users/models/authenticator.py @ eb22da36 (config is a PickledObjectField subclass)
export const authenticator: ModelDef = {
  name: "sentry.authenticator",
  table: "auth_authenticator",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.datetime("created_at", { default: now }),
    f.datetime("last_used_at", { nullable: true }),
    f.int("type"),
    f.json("config"),
  ],
  uniques: [["type", "user"]],
};

// src/sentry/users/models/userpermission.py @ 9ccf2ad4
export const userPermission: ModelDef = {
  name: "sentry.userpermission",
  table: "sentry_userpermission",
  silos: ["Control"],
  scope: "Config",
  fields: [f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }), f.string("permission", 32)],
  uniques: [["permission", "user"]],
};

// src/sentry/users/models/userrole.py @ d7e3bea5 (Sentry's ArrayField always forces null=True)
export const userRole: ModelDef = {
  name: "sentry.userrole",
  table: "sentry_userrole",
  silos: ["Control"],
  scope: "Config",
  fields: [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.string("name", 32),
    f.json("permissions", { nullable: true }),
  ],
  uniques: [["name"]],
};

// src/sentry/users/models/userrole.py @ d7e3bea5 (the through table of UserRole.users)
export const userRoleUser: ModelDef = {
  name: "sentry.userroleuser",
  table: "sentry_userrole_users",
  silos: ["Control"],
  scope: "Config",
  fields: [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.fk("user", "sentry.user", { kind: "FlexibleForeignKey" }),
    f.fk("role", "sentry.userrole", { kind: "FlexibleForeignKey" }),
  ],
  uniques: [],
};

// Relocation hooks.

function dropIfMergedUser(row: PendingRow, ctx: ImportContext): string | undefined {
  return belongsToMergedUser(row, ctx) ? "belongs to a merged user" : undefined;
}

/**
 * Outside Config and Global scope nobody arrives as staff; outside Global scope (or when already
 * unclaimed) the account is unclaimed and gets a password nobody knows, to be reset by its owner.
 */
user.normalize = (row, ctx) => {
  const u = row.fields;
  if (ctx.scope !== "Config" && ctx.scope !== "Global") {
    u.is_staff = false;
    u.is_superuser = false;
    u.is_managed = false;
  }
  if (ctx.scope !== "Global" || u.is_unclaimed) {
    u.is_unclaimed = true;
    u.password = unusablePassword();
    u.last_password_change = ctx.now;
    u.is_password_expired = false;
  }
  return undefined;
};

async function usernameTaken(ctx: ImportContext, candidate: string): Promise<boolean> {
  const row = await ctx.store.db
    .selectFrom(user.table)
    .select("id")
    .where(sql`lower(username)`, "=", sql`lower(${candidate})`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Sentry saves a new user's primary address as it saves the user: a `sentry.email` row (unless
 * the address has one, case-insensitively), written here with the user batch so that the export's
 * own Email row finds it (kind Existing, as in Sentry), and a `sentry.useremail` row, which
 * `user.finish` writes.
 */
async function createEmails(ctx: ImportContext, addresses: string[]): Promise<void> {
  const known = await idsByValue(ctx.store, email, "email", addresses, { lower: true });
  const fresh = new Map<string, Record<string, unknown>>();
  for (const address of addresses) {
    const key = address.toLowerCase();
    if (!known.has(key) && !fresh.has(key)) fresh.set(key, { email: address, date_added: ctx.now });
  }
  await insertFields(ctx.store, email, [...fresh.values()]);
}

/** Largest number of users whose UserEmail rows one round of `user.finish` fills. */
const FILL_CHUNK = 5000;

/**
 * The UserEmail row Sentry creates with each new user, which the export's own row for that
 * address then writes over (always kind Inserted). relo writes it once the whole export is in,
 * and only where the export brought none: each row is written once, in bulk, instead of being
 * inserted, selected, deleted and inserted again (about 2 s of a 200 MB PostgreSQL import). Rows
 * end up the same; only their pk order differs (see docs/compatibility.md).
 */
user.finish = async (ctx) => {
  let ids: number[] = [];
  for (const [first, last] of ctx.inserted(user.name).ranges()) {
    for (let pk = first; pk <= last; pk++) {
      ids.push(pk);
      if (ids.length === FILL_CHUNK) {
        await fillUserEmails(ctx, ids);
        ids = [];
      }
    }
  }
  if (ids.length > 0) await fillUserEmails(ctx, ids);
};

async function fillUserEmails(ctx: ImportContext, ids: number[]): Promise<void> {
  const users = await rowsByValue(ctx.store, user, "id", ids, ["id", "email"]);
  const owned = await rowsByValue(ctx.store, userEmail, "user_id", ids, ["user_id", "email"]);
  const have = new Set(owned.map((r) => `${Number(r.user_id)}\u0000${r.email}`));
  const rows = users
    .filter((u) => !have.has(`${Number(u.id)}\u0000${u.email}`))
    .sort((a, b) => Number(a.id) - Number(b.id))
    .map((u) => ({
      user: Number(u.id),
      email: u.email,
      validation_hash: secureToken(),
      date_hash_added: ctx.now,
      is_verified: false,
    }));
  await insertFields(ctx.store, userEmail, rows);
}

/**
 * A username that exists already (exactly, case-sensitively) is merged into with --merge-users,
 * otherwise the imported user is renamed with a random suffix (unique case-insensitively).
 */
user.write = async (rows, ctx) => {
  for (const row of rows) {
    if (!row.fields.username) row.fields.username = row.fields.email;
    if (!row.fields.username)
      throw new FieldError("username", "field `username` must not be empty", true, row);
  }
  const existing = await idsByValue(
    ctx.store,
    user,
    "username",
    rows.map((r) => r.fields.username),
  );
  const inBatch = new Set<string>();
  // Usernames inserted earlier in this batch, exactly (the collision test is case-sensitive) → index in `inserts`.
  const batchNames = new Map<string, number>();
  // Rows merged into a user inserted earlier in this batch: result index → index in `inserts`.
  const mergedInto = new Map<number, number>();
  const results: WriteResult[] = [];
  const inserts: PendingRow[] = [];
  for (const row of rows) {
    const u = row.fields;
    const name = u.username as string;
    const hit = existing.get(name);
    const earlier = batchNames.get(name);
    if ((hit !== undefined || earlier !== undefined) && ctx.flags.mergeUsers) {
      if (hit !== undefined) results.push({ pk: hit, kind: "Existing" });
      else {
        mergedInto.set(results.length, earlier as number);
        results.push(null);
      }
      continue;
    }
    if (hit !== undefined || earlier !== undefined) {
      u.username = await makeUnique(name, {
        maxLength: 128,
        taken: async (c) => inBatch.has(c.toLowerCase()) || (await usernameTaken(ctx, c)),
      });
    }
    inBatch.add((u.username as string).toLowerCase());
    batchNames.set(u.username as string, inserts.length);
    inserts.push(row);
    results.push(null);
  }
  const pks = await insertFields(
    ctx.store,
    user,
    inserts.map((r) => r.fields),
  );
  let next = 0;
  for (let i = 0; i < results.length; i++) {
    if (results[i] !== null) continue;
    const merged = mergedInto.get(i);
    results[i] =
      merged !== undefined ? { pk: pks[merged], kind: "Existing" } : { pk: pks[next++], kind: "Inserted" };
  }
  if (ctx.scope !== "Global") {
    const hashes = pks.map((pk) => ({ user: pk, hash: randomAlnum(32), date_added: ctx.now }));
    await insertFields(ctx.store, lostPasswordHash, hashes);
  }
  await createEmails(
    ctx,
    inserts.map((r) => r.fields.email as string),
  );
  return results;
};

/**
 * Get-or-create by key, then the imported values are saved over the row (Sentry's pattern for
 * emails, user emails and user IPs). Rows of one batch with the same key share one row, the
 * later one winning. `existingKind` is what a row that matched an existing one reports.
 */
async function writeByKey(
  rows: PendingRow[],
  ctx: ImportContext,
  model: ModelDef,
  keyOf: (fields: Record<string, unknown>) => string,
  existing: Map<unknown, number>,
  existingKind: "Existing" | "Inserted",
): Promise<WriteResult[]> {
  const slotOf = new Map<string, number>();
  const writes: Record<string, unknown>[] = [];
  const replace: (number | undefined)[] = [];
  const rowSlot: number[] = [];
  const kinds: ("Existing" | "Inserted")[] = [];
  for (const row of rows) {
    const key = keyOf(row.fields);
    let slot = slotOf.get(key);
    if (slot === undefined) {
      slot = writes.length;
      slotOf.set(key, slot);
      writes.push(row.fields);
      replace.push(existing.get(key));
      kinds.push(existing.has(key) ? existingKind : "Inserted");
    } else {
      writes[slot] = row.fields;
      kinds.push(existingKind);
    }
    rowSlot.push(slot);
  }
  const pks = await replaceOrInsert(ctx.store, model, writes, replace);
  return rows.map((_, i) => ({ pk: pks[rowSlot[i]], kind: kinds[i] }));
}

/** One row per address (case-insensitively): the import takes over an existing row. */
email.write = async (rows, ctx) => {
  const existing = await idsByValue(
    ctx.store,
    email,
    "email",
    rows.map((r) => r.fields.email),
    { lower: true },
  );
  return writeByKey(rows, ctx, email, (f) => String(f.email).toLowerCase(), existing, "Existing");
};

/** Outside Global scope an address must be verified again by its owner. */
userEmail.normalize = (row, ctx) => {
  if (belongsToMergedUser(row, ctx)) return "belongs to a merged user";
  if (ctx.scope !== "Global") {
    row.fields.is_verified = false;
    row.fields.validation_hash = secureToken();
    row.fields.date_hash_added = ctx.now;
  }
  return undefined;
};

/** Rows whose (user, `column`) pair exists already, keyed `user<NUL>value`. */
async function idsByUserAnd(
  ctx: ImportContext,
  model: ModelDef,
  column: string,
  rows: PendingRow[],
): Promise<Map<unknown, number>> {
  const found = await rowsByValue(
    ctx.store,
    model,
    "user_id",
    rows.map((r) => r.fields.user),
  );
  return new Map(found.map((r) => [`${r.user_id}\u0000${r[column]}`, Number(r.id)]));
}

/** Writes rows over existing (user, `column`) rows, or inserts them; always `Inserted` (Sentry). */
async function writeOverUserPairs(
  rows: PendingRow[],
  ctx: ImportContext,
  model: ModelDef,
  column: string,
): Promise<WriteResult[]> {
  const existing = await idsByUserAnd(ctx, model, column, rows);
  return writeByKey(rows, ctx, model, (f) => `${f.user}\u0000${f[column]}`, existing, "Inserted");
}

/**
 * A row for a (user, address) pair that exists already is taken over (Sentry: the primary address
 * row created with the user; relo creates that row only after the export's, see `user.finish`).
 */
userEmail.write = (rows, ctx) => writeOverUserPairs(rows, ctx, userEmail, "email");

/** Geo codes are recomputed from the address (relo has no geo database, so they stay empty). */
/** `relo dev populate`: an import clears the geo codes (relo has no GeoIP database to fill them). */
userIp.populate = () => ({ country_code: null, region_code: null });

userIp.normalize = (row, ctx) => {
  if (belongsToMergedUser(row, ctx)) return "belongs to a merged user";
  row.fields.country_code = null;
  row.fields.region_code = null;
  if (ctx.scope !== "Global") {
    row.fields.first_seen = ctx.now;
    row.fields.last_seen = ctx.now;
  }
  if (isIP(row.fields.ip_address as string) === 0) {
    throw new FieldError(
      "ip_address",
      `Django validation error encountered: {'ip_address': ['Enter a valid IPv4 or IPv6 address.']} (got ${JSON.stringify(row.fields.ip_address)})`,
      true,
      row,
    );
  }
  return undefined;
};

userIp.write = (rows, ctx) => writeOverUserPairs(rows, ctx, userIp, "ip_address");

userPermission.normalize = dropIfMergedUser;
// A merged (existing) account must not gain instance roles from an import.
userRoleUser.normalize = dropIfMergedUser;
userRole.overwritableConfig = true;

// Compare pairs these rows by value, not pk (Sentry's __relocation_custom_ordinal__); a `user`
// stands for its username.
user.customOrdinal = ["username"];
email.customOrdinal = ["email"];
userEmail.customOrdinal = ["user", "email"];
userIp.customOrdinal = ["user", "ip_address"];
userPermission.customOrdinal = ["user", "permission"];
userRole.customOrdinal = ["name"];
// Only a user's global options (no organization, no project) have a natural key.
userOption.customOrdinal = (fields) =>
  fields.organization_id == null && fields.project_id == null ? ["user", "key"] : null;

// `relo dev populate`: each user's own address has its email and useremail rows, as an import
// creates them with the user; and a claimed account, whose password an import keeps.
const populatedAddress = (i: number) => `user-${i}@example.com`;
user.populate = (i) => ({ email: populatedAddress(i), is_unclaimed: false });
email.populate = (i) => ({ email: populatedAddress(i) });
userEmail.populate = (i, ctx) =>
  i < ctx.count(user.name) ? { user: i + 1, email: populatedAddress(i) } : {};

// Email rows have no foreign key to users; a scoped export keeps those of exported users.
email.exportFilter = async (ctx) => {
  const users = ctx.exported(user.name);
  const keep = new Set<string>();
  for await (const chunk of ctx.store.scan(`SELECT "user_id", "email" FROM "${userEmail.table}"`, [])) {
    for (const [userId, address] of chunk)
      if (users.has(Number(userId))) keep.add(String(address).toLowerCase());
  }
  return (row) => keep.has(String(row.fields.email).toLowerCase());
};

export const userModels: ModelDef[] = [
  user,
  email,
  userEmail,
  userOption,
  userIp,
  authenticator,
  userPermission,
  userRole,
  userRoleUser,
];
