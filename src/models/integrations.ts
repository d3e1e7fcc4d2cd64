import { f } from "./fields.js";
import type { ModelDef } from "./types.js";

const now = () => new Date().toISOString();

// src/sentry/integrations/models/integration.py @ 592b66a3 (date fields come from DefaultFieldsModelExisting;
// external_id widened to 256 and debug_data added only in 2025)
export const integration: ModelDef = {
  name: "sentry.integration",
  table: "sentry_integration",
  silos: ["Control"],
  scope: "Global",
  fields: [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
    f.string("provider", 64),
    f.string("external_id", 64),
    f.string("name", 200),
    f.json("metadata", { default: () => ({}) }),
    f.int("status", { nullable: true, default: 0 }),
  ],
  uniques: [["external_id", "provider"]],
};

export const integrationModels: ModelDef[] = [integration];
