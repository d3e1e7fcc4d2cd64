/**
 * Builders that keep model definitions short: `f.string("slug", 50)`, `f.fk("organization",
 * "sentry.organization")`. Each returns a FieldDef.
 */
import type { FieldDef, FieldType, ForeignKeyKind } from "./types.js";

interface Opts {
  nullable?: boolean;
  default?: unknown;
  column?: string;
  caseInsensitive?: boolean;
}

function field(name: string, type: FieldType, opts: Opts = {}, maxLength?: number): FieldDef {
  const def: FieldDef = {
    name,
    column: opts.column ?? name,
    type,
    nullable: opts.nullable ?? false,
  };
  if (maxLength !== undefined) def.maxLength = maxLength;
  if ("default" in opts) def.default = opts.default;
  if (opts.caseInsensitive) def.caseInsensitive = true;
  return def;
}

interface FkOpts extends Opts {
  kind?: ForeignKeyKind;
  clearIfUnmapped?: boolean;
}

export const f = {
  int: (name: string, opts?: Opts) => field(name, "int", opts),
  bigint: (name: string, opts?: Opts) => field(name, "bigint", opts),
  float: (name: string, opts?: Opts) => field(name, "float", opts),
  bool: (name: string, opts?: Opts) => field(name, "bool", opts),
  string: (name: string, maxLength: number, opts?: Opts) => field(name, "string", opts, maxLength),
  text: (name: string, opts?: Opts) => field(name, "text", opts),
  datetime: (name: string, opts?: Opts) => field(name, "datetime", opts),
  date: (name: string, opts?: Opts) => field(name, "date", opts),
  json: (name: string, opts?: Opts) => field(name, "json", opts),
  bitfield: (name: string, opts?: Opts) => field(name, "bitfield", opts),
  uuid: (name: string, opts?: Opts) => field(name, "uuid", opts),
  ip: (name: string, opts?: Opts) => field(name, "ip", opts),
  decimal: (name: string, opts?: Opts) => field(name, "decimal", opts),

  /**
   * A reference to another model. A Django FK (`organization`) is stored in column
   * `organization_id`; a hybrid-cloud or implicit FK is already named `..._id`.
   */
  fk(name: string, model: string, opts: FkOpts = {}): FieldDef {
    const kind = opts.kind ?? (name.endsWith("_id") ? "HybridCloudForeignKey" : "FlexibleForeignKey");
    const column = opts.column ?? (name.endsWith("_id") ? name : `${name}_id`);
    const def: FieldDef = { ...field(name, "bigint", { ...opts, column }), fk: { model, kind } };
    if (opts.clearIfUnmapped) def.clearIfUnmapped = true;
    return def;
  },
};

const now = () => new Date().toISOString();

/**
 * The two columns of Sentry's DefaultFieldsModel (and DefaultFieldsModelExisting), in their
 * declaration order: they come before a model's own fields in an export.
 */
export function defaultFields(): FieldDef[] {
  return [
    f.datetime("date_updated", { default: now }),
    f.datetime("date_added", { nullable: true, default: now }),
  ];
}

/**
 * Sentry's HasApiScopes mixin: the legacy `scopes` bitfield and the `scope_list` array (a Python
 * list repr in exports, e.g. `"['org:read']"`). The mixin's fields come before the model's own.
 */
export function apiScopeFields(): FieldDef[] {
  return [f.bitfield("scopes", { default: "0" }), f.json("scope_list", { nullable: true, default: "[]" })];
}

/** Sentry's OwnerModel mixin (owner_user_id, owner_team), used by workflow-engine models. */
export function ownerFields(): FieldDef[] {
  return [
    f.fk("owner_user_id", "sentry.user", { nullable: true, kind: "HybridCloudForeignKey" }),
    f.fk("owner_team", "sentry.team", { nullable: true, kind: "FlexibleForeignKey" }),
  ];
}
