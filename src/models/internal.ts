/**
 * Tables relo writes itself while importing, never imported or exported (Excluded in Sentry):
 * import chunks (retry safety), organization slug reservations and lost-password hashes.
 */
import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

function chunkFields() {
  return [
    f.datetime("date_updated"),
    f.datetime("date_added"),
    f.uuid("import_uuid"),
    f.string("model", 64),
    f.bigint("min_ordinal"),
    f.bigint("max_ordinal"),
    f.bigint("min_source_pk"),
    f.bigint("max_source_pk"),
    f.bigint("min_inserted_pk", { nullable: true }),
    f.bigint("max_inserted_pk", { nullable: true }),
    f.json("inserted_map"),
    f.json("existing_map"),
    f.json("overwrite_map"),
    f.json("inserted_identifiers"),
  ];
}

const chunkUniques = [["import_uuid", "min_ordinal", "model"]];

// src/sentry/models/importchunk.py
export const regionImportChunk: ModelDef = {
  name: "sentry.regionimportchunk",
  table: "sentry_regionimportchunk",
  silos: ["Region"],
  scope: "Excluded",
  fields: chunkFields(),
  uniques: chunkUniques,
};

export const controlImportChunk: ModelDef = {
  name: "sentry.controlimportchunk",
  table: "sentry_controlimportchunk",
  silos: ["Control"],
  scope: "Excluded",
  fields: chunkFields(),
  uniques: chunkUniques,
};

export const controlImportChunkReplica: ModelDef = {
  name: "sentry.controlimportchunkreplica",
  table: "sentry_controlimportchunkreplica",
  silos: ["Region"],
  scope: "Excluded",
  fields: chunkFields(),
  uniques: chunkUniques,
};

/** Sentry's reservation types. */
export const ReservationType = { PRIMARY: 0, VANITY_ALIAS: 1, TEMPORARY_RENAME_ALIAS: 2 } as const;

// src/sentry/hybridcloud/models/organizationslugreservation.py
export const organizationSlugReservation: ModelDef = {
  name: "sentry.organizationslugreservation",
  table: "sentry_organizationslugreservation",
  silos: ["Control"],
  scope: "Excluded",
  fields: [
    f.string("slug", 50),
    f.fk("organization_id", "sentry.organization"),
    f.fk("user_id", "sentry.user", { nullable: true, kind: "ImplicitForeignKey" }),
    f.string("region_name", 48),
    f.int("reservation_type", { default: ReservationType.PRIMARY }),
    f.datetime("date_added"),
  ],
  uniques: [["organization_id", "reservation_type"], ["slug"]],
};

// src/sentry/users/models/lostpasswordhash.py
export const lostPasswordHash: ModelDef = {
  name: "sentry.lostpasswordhash",
  table: "sentry_lostpasswordhash",
  silos: ["Control"],
  scope: "Excluded",
  fields: [f.fk("user", "sentry.user"), f.string("hash", 32), f.datetime("date_added")],
  uniques: [["user"]],
};

export const internalModels: ModelDef[] = [
  regionImportChunk,
  controlImportChunk,
  controlImportChunkReplica,
  organizationSlugReservation,
  lostPasswordHash,
];
