/**
 * Instance-wide configuration models (options and relays), all in the Config scope.
 */
import { f } from "./fields.js";
import type { FieldDef, ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// Option and ControlOption share one abstract base; `value` is declared after its Meta, so it comes last.
function optionFields(): FieldDef[] {
  return [
    f.string("key", 128),
    f.datetime("last_updated", { default: now }),
    f.string("last_updated_by", 16, { default: "unknown" }),
    f.json("value"),
  ];
}

// src/sentry/models/options/option.py @ 013a5678 (BaseOption + Option)
export const option: ModelDef = {
  name: "sentry.option",
  table: "sentry_option",
  silos: ["Region"],
  scope: "Config",
  fields: optionFields(),
  uniques: [["key"]],
};

// src/sentry/models/options/option.py @ 013a5678 (BaseOption + ControlOption)
export const controlOption: ModelDef = {
  name: "sentry.controloption",
  table: "sentry_controloption",
  silos: ["Control"],
  scope: "Config",
  fields: optionFields(),
  uniques: [["key"]],
};

// src/sentry/models/relay.py (2024 version with relocation scope; commit not shown by the index)
export const relay: ModelDef = {
  name: "sentry.relay",
  table: "sentry_relay",
  silos: ["Region"],
  scope: "Config",
  fields: [
    f.string("relay_id", 64),
    f.string("public_key", 200),
    f.datetime("first_seen", { nullable: true, default: null }),
    f.datetime("last_seen", { nullable: true, default: null }),
    f.bool("is_internal", { nullable: true, default: null }),
  ],
  uniques: [["relay_id"]],
};

// src/sentry/models/relay.py (same version as Relay)
export const relayUsage: ModelDef = {
  name: "sentry.relayusage",
  table: "sentry_relayusage",
  silos: ["Region"],
  scope: "Config",
  fields: [
    f.string("relay_id", 64),
    f.string("version", 32, { default: "0.0.1" }),
    f.datetime("first_seen", { default: now }),
    f.datetime("last_seen", { default: now }),
    f.string("public_key", 200, { nullable: true }),
  ],
  uniques: [["relay_id", "version"]],
};

export const configModels: ModelDef[] = [option, controlOption, relay, relayUsage];

// Relocation hooks: Sentry's OverwritableConfigMixin (keep an existing key, or overwrite it with
// --overwrite-configs).
for (const model of configModels) model.overwritableConfig = true;

// Compare pairs these rows by key, not pk (Sentry's __relocation_custom_ordinal__).
option.customOrdinal = ["key"];
controlOption.customOrdinal = ["key"];
relay.customOrdinal = ["relay_id"];
relayUsage.customOrdinal = ["relay_id", "version"];

/** Options that change with every install or every minute; scoped exports leave them out. */
const VOLATILE_OPTIONS = new Set([
  "sentry:install-id",
  "sentry:latest_version",
  "sentry:last_worker_ping",
  "sentry:last_worker_version",
]);

for (const model of [option, controlOption]) {
  model.exportFilter = async () => (row) => !VOLATILE_OPTIONS.has(row.fields.key as string);
}
