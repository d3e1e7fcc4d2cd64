/**
 * Collisions: an imported row whose unique value exists here already, and what the import did
 * about it (renamed the user, merged it, re-suffixed the slug, regenerated the token, kept or
 * overwrote the config). The models' write rules act on collisions; this module tells them apart
 * afterwards by comparing each row as read with the row as written.
 */
import { RESERVED_ORGANIZATION_SLUGS } from "../../control/reserved.js";
import type { ModelDef } from "../../models/types.js";
import type { PendingRow, WriteResult } from "./context.js";

export const CollisionAction = {
  Renamed: "renamed",
  Merged: "merged",
  Resuffixed: "re-suffixed",
  Regenerated: "regenerated",
  Kept: "kept",
  Overwritten: "overwritten",
  Cleared: "cleared",
  TakenOver: "taken over",
} as const;
export type CollisionAction = (typeof CollisionAction)[keyof typeof CollisionAction];

export interface Collision {
  model: string;
  /** 1-based position among the model's rows in the export. */
  ordinal: number;
  old_pk: number;
  new_pk: number;
  /** The colliding field (`username`, `slug`, `public_key`, `token`, `key`, ...). */
  field: string;
  action: CollisionAction;
  /** The value in the export and the value written; null for secrets. */
  old_value: string | null;
  new_value: string | null;
  /** One line for people. */
  message: string;
}

type Detector = (row: PendingRow, result: NonNullable<WriteResult>, model: ModelDef) => Collision[];

function base(
  row: PendingRow,
  result: NonNullable<WriteResult>,
  model: ModelDef,
): Pick<Collision, "model" | "ordinal" | "old_pk" | "new_pk"> {
  return { model: model.name, ordinal: row.ordinal, old_pk: row.oldPk, new_pk: result.pk };
}

const text = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

const user: Detector = (row, result, model) => {
  const name = text(row.source.username);
  if (result.kind === "Existing") {
    return [
      {
        ...base(row, result, model),
        field: "username",
        action: CollisionAction.Merged,
        old_value: name,
        new_value: name,
        message: `username \`${name}\` exists: merged into existing user ${result.pk} (--merge-users)`,
      },
    ];
  }
  const written = text(row.fields.username);
  if (!name || name === written) return [];
  return [
    {
      ...base(row, result, model),
      field: "username",
      action: CollisionAction.Renamed,
      old_value: name,
      new_value: written,
      message: `username \`${name}\` exists: renamed to \`${written}\``,
    },
  ];
};

const email: Detector = (row, result, model) => {
  if (result.kind !== "Existing") return [];
  const address = text(row.source.email);
  return [
    {
      ...base(row, result, model),
      field: "email",
      action: CollisionAction.TakenOver,
      old_value: address,
      new_value: address,
      message: `address \`${address}\` exists: the imported row takes over row ${result.pk}`,
    },
  ];
};

/** A key or token the import replaced because it was in use here; `secret` values are not shown. */
function regenerated(field: string, what: string, secret: boolean): Detector {
  return (row, result, model) => {
    const before = text(row.source[field]);
    const after = text(row.fields[field]);
    if (!before || before === after) return [];
    return [
      {
        ...base(row, result, model),
        field,
        action: CollisionAction.Regenerated,
        old_value: secret ? null : before,
        new_value: secret ? null : after,
        message: secret
          ? `${what} exists: a new one was generated`
          : `${what} \`${before}\` exists: replaced by \`${after}\``,
      },
    ];
  };
}

const projectKey: Detector = (row, result, model) => [
  ...regenerated("public_key", "DSN public key", false)(row, result, model),
  ...regenerated("secret_key", "DSN secret key", true)(row, result, model),
];

const apiToken: Detector = (row, result, model) => [
  ...regenerated("token", "API token", true)(row, result, model),
  ...regenerated("refresh_token", "API refresh token", true)(row, result, model),
];

const orgAuthToken = regenerated("token_hashed", "organization auth token", true);

const member: Detector = (row, result, model) => {
  if (row.source.token === null || row.source.token === undefined || row.fields.token !== null) return [];
  return [
    {
      ...base(row, result, model),
      field: "token",
      action: CollisionAction.Cleared,
      old_value: null,
      new_value: null,
      message: "invite token exists: the imported invite was written without it",
    },
  ];
};

/** Config rows (options, relays, roles): an existing key is kept, or overwritten with the flag. */
const config: Detector = (row, result, model) => {
  if (result.kind === "Inserted") return [];
  const fks = new Set(model.fields.filter((f) => f.fk).map((f) => f.name));
  const keyFields = model.uniques.find((set) => set.length > 0 && !set.some((n) => fks.has(n))) ?? [];
  const key = keyFields.map((n) => `${n}=${text(row.source[n])}`).join(", ");
  const kept = result.kind === "Existing";
  return [
    {
      ...base(row, result, model),
      field: keyFields.join(","),
      action: kept ? CollisionAction.Kept : CollisionAction.Overwritten,
      old_value: keyFields.map((n) => text(row.source[n])).join(","),
      new_value: keyFields.map((n) => text(row.source[n])).join(","),
      message: kept
        ? `${key} exists: the existing row ${result.pk} is kept (--overwrite-configs replaces it)`
        : `${key} exists: row ${result.pk} is overwritten with the imported values`,
    },
  ];
};

const DETECTORS: Record<string, Detector> = {
  "sentry.user": user,
  "sentry.email": email,
  "sentry.projectkey": projectKey,
  "sentry.apitoken": apiToken,
  "sentry.orgauthtoken": orgAuthToken,
  "sentry.organizationmember": member,
};

/** The collisions one written row ran into (organizations: see `orgSlugCollision`). */
export function collisionsOf(
  model: ModelDef,
  row: PendingRow,
  result: NonNullable<WriteResult>,
): Collision[] {
  const detect = DETECTORS[model.name] ?? (model.overwritableConfig ? config : undefined);
  return detect ? detect(row, result, model) : [];
}

/**
 * An organization's slug is final only once slug reservations are made, after every batch; this
 * compares the slug in the export with the final one and names the rule that changed it.
 */
export function orgSlugCollision(
  org: { ordinal: number; oldPk: number; newPk: number; slug: string | null },
  finalSlug: string,
): Collision | null {
  const requested = org.slug ?? "";
  if (requested === finalSlug) return null;
  const lower = requested.toLowerCase().replace(/_/g, "-");
  let why = "exists: a random suffix was added";
  let action: CollisionAction = CollisionAction.Resuffixed;
  if (RESERVED_ORGANIZATION_SLUGS.has(lower)) {
    why = "is reserved: replaced by a random slug";
    action = CollisionAction.Renamed;
  } else if (/^[0-9]+$/.test(lower)) why = "is all digits: a suffix was added";
  else if (lower === finalSlug) {
    why = "is not in slug form: normalized";
    action = CollisionAction.Renamed;
  } else if (lower.length > 30 && finalSlug === lower.slice(0, 30)) {
    why = "is too long: cut to 30 characters";
    action = CollisionAction.Renamed;
  }
  return {
    model: "sentry.organization",
    ordinal: org.ordinal,
    old_pk: org.oldPk,
    new_pk: org.newPk,
    field: "slug",
    action,
    old_value: requested,
    new_value: finalSlug,
    message: `slug \`${requested}\` ${why} → \`${finalSlug}\``,
  };
}
