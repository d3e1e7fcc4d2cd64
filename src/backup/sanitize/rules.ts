/**
 * What sanitize replaces in each model, and with what: Sentry's default rule, derived from the
 * model's fields, plus Sentry's per-model overrides (`sanitize_relocation_json`) and a few
 * additions of relo's for secrets Sentry leaves in place. Keyed by model name, so the model
 * definitions stay free of sanitize concerns.
 *
 * The default rule, per Sentry: a model with `name` and `slug` gets a new name and the slug of
 * it, one with only `name` a new name; then, per field in declaration order, datetimes are
 * remapped, email addresses, IP addresses, URLs (fields named `*url`, `*uri`) and UUIDs (UUID
 * fields, fields named `*guid`, `*uuid`) replaced, and text fields whose name contains
 * `password`, `token` or `secret` randomized. Sentry recognizes email fields by their Django
 * class; relo by name (`email`, `*_email`), which covers every email field of the models relo
 * defines, `organizationmember.user_email` included.
 */
import { createHash } from "node:crypto";
import { registry } from "../../models/registry.js";
import type { FieldDef, ModelDef } from "../../models/types.js";
import type { DatetimeMap } from "./datetimes.js";
import { parseDatetime } from "./datetimes.js";
import { mapJsonStrings } from "./json-strings.js";
import type { Mappers } from "./mappers.js";

/** A value a rule puts in place of a field's original. */
export type NewValue =
  | { kind: "string"; value: string }
  /** Milliseconds since the epoch, written as an orjson datetime. */
  | { kind: "datetime"; ms: number }
  /** Compact JSON text. */
  | { kind: "json"; text: string };

/** One row while its rules run: the original field values in, the replacements out. */
export interface RowEdit {
  /** The original value of a field (undefined when the row does not have it). */
  get(field: string): unknown;
  /** The original value's JSON text, as the export holds it (undefined when absent). */
  text(field: string): string | undefined;
  set(field: string, value: NewValue): void;
}

export interface RuleContext {
  mappers: Mappers;
  datetimes: DatetimeMap;
}

export interface Rule {
  /** The fields this rule replaces (a later rule for the same field takes its place). */
  fields: string[];
  /** Set for datetime rules: their values are collected by the first pass. */
  datetime?: boolean;
  apply(row: RowEdit, ctx: RuleContext): void;
}

/** A value a rule cannot handle; the pipeline adds where it is. */
export class RuleError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`field \`${field}\`: ${reason}`);
  }
}

const NOT_A_STRING = "Existing value must be a string";
const NOT_A_DATETIME = "Existing value must be a valid ISO-8601 datetime string";

/** The field's original string, or null when it is absent or null; throws for other types. */
function stringOf(row: RowEdit, field: string, message = NOT_A_STRING): string | null {
  const v = row.get(field);
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new RuleError(field, message);
  return v;
}

function str(value: string): NewValue {
  return { kind: "string", value };
}

/** A rule mapping one string field with `map` (null and absent values stay as they are). */
function stringRule(field: string, map: (old: string, ctx: RuleContext) => string): Rule {
  return {
    fields: [field],
    apply(row, ctx) {
      const old = stringOf(row, field);
      if (old !== null) row.set(field, str(map(old, ctx)));
    },
  };
}

export const rules = {
  datetime(field: string): Rule {
    return {
      fields: [field],
      datetime: true,
      apply(row, ctx) {
        const old = stringOf(row, field, NOT_A_DATETIME);
        if (old === null) return;
        const micros = parseDatetime(old);
        if (micros === null) throw new RuleError(field, NOT_A_DATETIME);
        row.set(field, { kind: "datetime", ms: ctx.datetimes.map(micros) });
      },
    };
  },

  /** A random string shaped like the original, or `generate`'s value (interned either way). */
  string(field: string, generate?: (ctx: RuleContext) => string): Rule {
    return stringRule(field, (old, ctx) => ctx.mappers.string(old, generate && (() => generate(ctx))));
  },

  email: (field: string): Rule => stringRule(field, (old, ctx) => ctx.mappers.email(old)),
  ip: (field: string): Rule => stringRule(field, (old, ctx) => ctx.mappers.ip(old)),
  url: (field: string): Rule => stringRule(field, (old, ctx) => ctx.mappers.url(old)),
  name: (field: string): Rule => stringRule(field, (old, ctx) => ctx.mappers.name(old)),

  /**
   * A new UUID. A value that is not a UUID is an error in a UUID column (`strict`); in a text
   * column named like one it is randomized as a string instead (Sentry fails on both).
   */
  uuid(field: string, strict: boolean): Rule {
    return stringRule(field, (old, ctx) => {
      const mapped = ctx.mappers.uuid(old);
      if (mapped !== null) return mapped;
      if (strict) throw new RuleError(field, "Existing value must be a valid UUID");
      return ctx.mappers.string(old);
    });
  },

  /** A string field set to `value` (null and absent values stay). */
  constant: (field: string, value: string): Rule => stringRule(field, () => value),

  /** A field set to the string `value` whatever it held, even absent or null (Sentry's `events`). */
  literal(field: string, value: string): Rule {
    return { fields: [field], apply: (row) => row.set(field, str(value)) };
  },

  /** A non-null field, of any type, replaced by the string `value`. */
  replace(field: string, value: string): Rule {
    return {
      fields: [field],
      apply(row) {
        const old = row.get(field);
        if (old !== undefined && old !== null) row.set(field, str(value));
      },
    };
  },

  /** A non-null JSON field replaced by the JSON text `text` (Sentry's `set_json`). */
  json(field: string, text: string): Rule {
    return {
      fields: [field],
      apply(row) {
        const old = row.get(field);
        if (old !== undefined && old !== null) row.set(field, { kind: "json", text });
      },
    };
  },

  /** A new name, and when the row has a slug, the slug of the new name. */
  nameAndSlug(model: string): Rule {
    return {
      fields: ["name", "slug"],
      apply(row, ctx) {
        const oldName = stringOf(row, "name", "Existing name value must be a string");
        if (oldName === null) return;
        const name = ctx.mappers.name(oldName);
        row.set("name", str(name));
        const oldSlug = stringOf(row, "slug", "Existing slug value must be a string");
        if (oldSlug !== null) row.set("slug", str(ctx.mappers.slug(model, oldSlug, name)));
      },
    };
  },
};

/**
 * Sentry's ApiToken override: a new token and refresh token, with matching hashes and last
 * characters. relo keeps `token_type` (the token's kind, not data; Sentry randomizes it) and
 * starts the new tokens with it, so they keep the form Sentry gives that kind of token.
 */
const apiTokenRule: Rule = {
  fields: ["token", "token_last_characters", "hashed_token", "refresh_token", "hashed_refresh_token"],
  apply(row, ctx) {
    const type = row.get("token_type");
    const fresh = () => `${typeof type === "string" ? type : ""}${ctx.mappers.hexToken()}`;
    const token = fresh();
    const refresh = fresh();
    const values: Record<string, string> = {
      token,
      token_last_characters: token.slice(-4),
      hashed_token: sha256(token),
      refresh_token: refresh,
      hashed_refresh_token: sha256(refresh),
    };
    for (const [field, value] of Object.entries(values)) {
      if (stringOf(row, field) !== null) row.set(field, str(value));
    }
  },
};

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** What an option value holds, by its key. */
type OptionKind = "address" | "url" | "secret";

const ADDRESS_OPTION = /e-?mail|mail\.from/;
const SECRET_OPTION = /password|passwd|secret|token|private|signing|credential|username|api[-_.]?key|dsn/;
const URL_WORDS = new Set(["url", "urls", "uri", "uris"]);

/**
 * The kind of value an option's key names: an address (`system.admin-email`, `mail.from`), a URL
 * or webhook (`slack:webhook`, `system.url-prefix`, `webhooks:urls`), or a secret: a password,
 * secret, token, username, DSN, or a key (`segment:write_key`, `pagerduty:service_key`,
 * `opsgenie:api_key`, `github-app.private-key`). Null for an option sanitize keeps.
 */
export function optionKind(key: string): OptionKind | null {
  const k = key.toLowerCase();
  const words = k.split(/[^a-z0-9]+/).filter((w) => w !== "");
  const last = words.at(-1) ?? "";
  if (ADDRESS_OPTION.test(k)) return "address";
  // The name of the header a token comes in (`sentry:token_header`), not a secret.
  if (last === "header") return null;
  if (k.includes("webhook") || words.some((w) => URL_WORDS.has(w))) return "url";
  if (SECRET_OPTION.test(k) || /keys?$/.test(last)) return "secret";
  return null;
}

/** How each string in a value of `kind` is replaced. */
function optionMapper(kind: OptionKind, mappers: Mappers): (s: string) => string {
  if (kind === "address") return (s) => mappers.addresses(s);
  // Each URL of a list (`webhooks:urls` holds one per line); a value without a host as a string.
  if (kind === "url") return (s) => s.replace(/\S+/g, (piece) => mappers.url(piece));
  // A username may be an address: mapped as one, it matches the same address elsewhere.
  return (s) => (/^[^\s@]+@[^\s@]+$/.test(s) ? mappers.email(s) : mappers.string(s));
}

/**
 * relo's addition for option rows (instance, organization, project, user and template options):
 * the strings of a value whose key names an address, a URL or a secret (`optionKind`) are
 * replaced. The value keeps its form: JSON text in a string (`"\"value\""`, `"[\"a\"]"`) stays
 * JSON text, a JSON value stays one, and in either only string values change (object keys,
 * `true`, `null` and, unless the key names a secret, numbers stay).
 */
const optionValueRule: Rule = {
  fields: ["value"],
  apply(row, ctx) {
    const key = row.get("key");
    const kind = typeof key === "string" ? optionKind(key) : null;
    if (kind === null) return;
    const map = optionMapper(kind, ctx.mappers);
    const value = row.get("value");
    if (typeof value === "string") {
      const mapped = mapOptionText(value, map, kind === "secret");
      if (mapped !== value) row.set("value", str(mapped));
    } else if (value !== null && typeof value === "object") {
      const text = row.text("value") as string;
      const mapped = mapJsonStrings(text, map);
      if (mapped !== text) row.set("value", { kind: "json", text: mapped });
    }
  },
};

/** An option value held as a string: JSON text (its strings mapped) or plain text (mapped). */
function mapOptionText(value: string, map: (s: string) => string, numbers: boolean): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return map(value);
  }
  if (typeof parsed === "string") {
    const mapped = map(parsed);
    return mapped === parsed ? value : JSON.stringify(mapped);
  }
  if (parsed !== null && typeof parsed === "object") return mapJsonStrings(value, map);
  return typeof parsed === "number" && numbers ? map(value) : value;
}

/** A rules line's file matcher (`path:`, `codeowners:`, `module:`), plain or quoted. */
const FILE_MATCHER = /^([ \t]*(?:path|codeowners|module):(?:"(?:[^"\\]|\\.)*"|\S*))?(.*)$/gm;

/**
 * relo's addition for ownership rules: the addresses in the rules text (`path:src/*
 * alice@corp.com #team`; a file matcher, which may name a file like `icon@2x.png`, is kept) and
 * the owners' `identifier`s in the parsed schema are mapped as addresses, so they still match
 * their users' new addresses.
 */
const ownershipRules: Rule[] = [
  stringRule("raw", (old, ctx) =>
    old.replace(FILE_MATCHER, (_, matcher = "", rest: string) => matcher + ctx.mappers.addresses(rest)),
  ),
  {
    fields: ["schema"],
    apply(row, ctx) {
      const text = row.text("schema");
      if (text === undefined) return;
      const owners = (s: string, key: string | null) => (key === "identifier" ? ctx.mappers.addresses(s) : s);
      // A schema held as a string of JSON text is read inside that string.
      const inner = (s: string, key: string | null) =>
        key === null && isJsonText(s) ? mapJsonStrings(s, owners) : owners(s, key);
      const mapped = mapJsonStrings(text, inner);
      if (mapped !== text) row.set("schema", { kind: "json", text: mapped });
    },
  },
];

/** Whether `s` parses as JSON. */
function isJsonText(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

const hexToken = (ctx: RuleContext) => ctx.mappers.hexToken();

/** Sentry's `sanitize_relocation_json` overrides (and relo's additions, marked). */
const OVERRIDES: Record<string, Rule[]> = {
  "sentry.user": [rules.string("username"), rules.string("session_nonce")],
  "sentry.authenticator": [rules.replace("config", '""')],
  "sentry.integration": [rules.string("external_id"), rules.json("metadata", "{}"), rules.string("provider")],
  "sentry.organizationintegration": [rules.json("config", "{}")],
  "sentry.projectintegration": [rules.json("config", "{}")],
  "sentry.repository": [
    rules.json("config", "{}"),
    rules.string("external_id"),
    rules.string("provider"),
    rules.literal("languages", "[]"),
  ],
  "sentry.sentryapp": [
    rules.string("author"),
    rules.string("creator_label"),
    rules.json("metadata", "{}"),
    rules.string("overview"),
    rules.json("schema", "{}"),
    rules.literal("events", "[]"),
  ],
  "sentry.sentryappcomponent": [rules.string("type"), rules.json("schema", "{}")],
  "sentry.authidentity": [rules.json("data", "{}"), rules.string("ident")],
  "sentry.relay": [rules.uuid("relay_id", false), rules.string("public_key")],
  "sentry.relayusage": [rules.uuid("relay_id", false), rules.string("public_key")],
  "sentry.apikey": [rules.constant("allowed_origins", ""), rules.string("key"), rules.name("label")],
  "sentry.apiapplication": [
    rules.constant("allowed_origins", ""),
    rules.string("client_id", hexToken),
    rules.constant("redirect_uris", ""),
  ],
  "sentry.apitoken": [apiTokenRule],
  "sentry.servicehook": [rules.uuid("guid", false), rules.literal("events", "[]")],
  // relo's additions: secrets Sentry leaves in place.
  "sentry.projectkey": [rules.string("public_key")],
  "sentry.useremail": [rules.string("validation_hash")],
  "sentry.lostpasswordhash": [rules.string("hash")],
  "sentry.apigrant": [rules.string("code")],
  "sentry.authprovider": [rules.json("config", "{}")],
  "sentry.projectownership": ownershipRules,
  "sentry.option": [optionValueRule],
  "sentry.controloption": [optionValueRule],
  "sentry.organizationoption": [optionValueRule],
  "sentry.projectoption": [optionValueRule],
  "sentry.useroption": [optionValueRule],
  "sentry.projecttemplateoption": [optionValueRule],
};

const SENSITIVE_WORDS = /password|token|secret/;

function isText(field: FieldDef): boolean {
  return field.type === "string" || field.type === "text";
}

/** The default rule of one field, if any (Sentry's order: the first that applies). */
function fieldRule(field: FieldDef): Rule | null {
  if (field.fk) return null;
  const name = field.name;
  if (field.type === "datetime") return rules.datetime(name);
  if (isText(field) && (name === "email" || name.endsWith("_email"))) return rules.email(name);
  if (field.type === "ip") return rules.ip(name);
  if (name.endsWith("url") || name.endsWith("uri")) return rules.url(name);
  if (field.type === "uuid" || name.endsWith("guid") || name.endsWith("uuid")) {
    return rules.uuid(name, field.type === "uuid");
  }
  if (isText(field) && SENSITIVE_WORDS.test(name)) {
    // The token's kind; see apiTokenRule.
    return name === "token_type" ? null : rules.string(name);
  }
  return null;
}

/** Every rule of a model, one per field (an override replaces the default for its fields). */
export function modelRules(model: ModelDef): Rule[] {
  const names = new Set(model.fields.map((f) => f.name));
  const all: Rule[] = [];
  if (names.has("name") && names.has("slug")) all.push(rules.nameAndSlug(model.name));
  else if (names.has("name")) all.push(rules.name("name"));
  for (const field of model.fields) {
    const rule = fieldRule(field);
    if (rule) all.push(rule);
  }
  all.push(...(OVERRIDES[model.name] ?? []));
  const byField = new Map<string, Rule>();
  for (const rule of all) {
    for (const field of rule.fields) {
      const earlier = byField.get(field);
      // A pair rule replaced for one of its fields is replaced for both.
      if (earlier) for (const f of earlier.fields) byField.delete(f);
    }
    for (const field of rule.fields) byField.set(field, rule);
  }
  return [...new Set(byField.values())];
}

/**
 * Rules by model name, for every model relo defines; a model missing here is dropped, as Sentry
 * drops models it does not know. `sentry.actor` rows of older exports are kept (they hold only
 * references): relo's import reads them to give old alert rules their owners.
 */
export class RuleBook {
  private readonly byModel = new Map<string, Rule[]>([["sentry.actor", []]]);
  private readonly datetimesByModel = new Map<string, string[]>();

  constructor(models: Iterable<ModelDef> = registry.ordered) {
    for (const model of models) this.byModel.set(model.name, modelRules(model));
    for (const [name, list] of this.byModel) {
      this.datetimesByModel.set(
        name,
        list.filter((r) => r.datetime).flatMap((r) => r.fields),
      );
    }
  }

  rulesFor(model: string): Rule[] | undefined {
    return this.byModel.get(model);
  }

  /** The fields of `model` whose values the first pass collects. */
  datetimeFields(model: string): readonly string[] {
    return this.datetimesByModel.get(model) ?? [];
  }
}
