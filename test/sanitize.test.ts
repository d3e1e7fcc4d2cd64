/**
 * `sanitizeExport` on whole exports: an export of every model (relo dev populate) and Sentry's
 * fixtures. Every sanitizable field is replaced and nothing else changes; no original personal
 * value or secret survives anywhere in the output; datetimes keep their order; unique fields stay
 * unique; the output is orjson's layout; bad input is refused before anything is written.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { isIP } from "node:net";
import { PassThrough } from "node:stream";
import { beforeAll, describe, expect, it } from "vitest";
import { InputError } from "../src/backup/errors.js";
import { JsonSyntaxError } from "../src/backup/reader.js";
import { parseDatetime } from "../src/backup/sanitize/datetimes.js";
import { slugify } from "../src/backup/sanitize/mappers.js";
import { type SanitizeOptions, type SanitizeResult, sanitizeExport } from "../src/backup/sanitize/run.js";
import { urlparse } from "../src/backup/sanitize/url.js";
import { populate } from "../src/dev/populate.js";
import { registry } from "../src/models/registry.js";
import type { FieldDef, ModelDef } from "../src/models/types.js";
import { freshDb } from "./helpers/db.js";
import { exportText } from "./helpers/export.js";
import { FIXTURES, fixture } from "./helpers/import.js";

interface Row {
  model: string;
  pk: number;
  fields: Record<string, any>;
}

/** Sanitizes export text; the source can be read more than once, as a file can. */
async function sanitize(
  text: string,
  opts: SanitizeOptions = {},
): Promise<{ out: string; result: SanitizeResult }> {
  const source = {
    async *open() {
      yield Buffer.from(text, "utf8");
    },
  };
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  const result = await sanitizeExport(source, sink, opts);
  sink.end();
  return { out: Buffer.concat(chunks).toString("utf8"), result };
}

/** What sanitizing `text` writes before failing (must be nothing), and the error. */
async function failure(text: string): Promise<{ written: string; error: Error }> {
  const source = {
    async *open() {
      yield Buffer.from(text, "utf8");
    },
  };
  const sink = new PassThrough();
  let written = "";
  sink.on("data", (c: Buffer) => (written += c.toString()));
  try {
    await sanitizeExport(source, sink);
  } catch (error) {
    return { written, error: error as Error };
  }
  throw new Error("sanitize did not fail");
}

// What must be replaced, written out here independently of src/backup/sanitize/rules.ts.

/** Fields Sentry's per-model overrides replace, and those relo adds. */
const OVERRIDDEN: Record<string, string[]> = {
  "sentry.user": ["username", "session_nonce"],
  "sentry.authenticator": ["config"],
  "sentry.integration": ["external_id", "metadata", "provider"],
  "sentry.organizationintegration": ["config"],
  "sentry.projectintegration": ["config"],
  "sentry.repository": ["config", "external_id", "provider", "languages"],
  "sentry.sentryapp": ["author", "creator_label", "metadata", "overview", "schema", "events"],
  "sentry.sentryappcomponent": ["type", "schema"],
  "sentry.authidentity": ["data", "ident"],
  "sentry.relay": ["relay_id", "public_key"],
  "sentry.relayusage": ["relay_id", "public_key"],
  "sentry.apikey": ["allowed_origins", "key", "label"],
  "sentry.apiapplication": ["allowed_origins", "client_id", "redirect_uris"],
  "sentry.apitoken": [
    "token",
    "hashed_token",
    "token_last_characters",
    "refresh_token",
    "hashed_refresh_token",
  ],
  "sentry.servicehook": ["guid", "events"],
  "sentry.projectkey": ["public_key"],
  "sentry.useremail": ["validation_hash"],
  "sentry.lostpasswordhash": ["hash"],
  "sentry.apigrant": ["code"],
  "sentry.authprovider": ["config"],
};

/** Sentry's default rule, by field class and name. */
function byDefault(model: ModelDef, field: FieldDef): boolean {
  const names = model.fields.map((f) => f.name);
  const n = field.name;
  if (field.fk) return false;
  if (n === "name" || (n === "slug" && names.includes("name"))) return true;
  const text = field.type === "string" || field.type === "text";
  return (
    field.type === "datetime" ||
    field.type === "ip" ||
    field.type === "uuid" ||
    (text && (n === "email" || n.endsWith("_email"))) ||
    /(url|uri|guid|uuid)$/.test(n) ||
    (text && /password|token|secret/.test(n) && n !== "token_type")
  );
}

function sanitizable(modelName: string): Set<string> {
  const model = registry.get(modelName) as ModelDef;
  const out = new Set(OVERRIDDEN[modelName] ?? []);
  for (const f of model.fields) if (byDefault(model, f)) out.add(f.name);
  return out;
}

const OPTION_MODELS = new Set([
  "sentry.option",
  "sentry.controloption",
  "sentry.organizationoption",
  "sentry.projectoption",
  "sentry.useroption",
  "sentry.projecttemplateoption",
]);

const isDatetimeField = (model: string, field: string) =>
  registry.get(model)?.fields.find((f) => f.name === field)?.type === "datetime";

/**
 * Every original value sanitize must not let through: whole values of sanitizable fields
 * (datetimes aside: a jittered datetime may land on its old instant), plus the domain of each
 * address and the host of each URL. Values that also occur inside a field sanitize keeps, or a
 * field name (a slug `internal` and `is_internal`), are left out, as they legitimately remain.
 */
function secretsOf(rows: Row[]): string[] {
  const kept: string[] = [];
  const secrets = new Set<string>();
  const add = (s: unknown) => {
    if (typeof s === "string" && s.length >= 5) secrets.add(s);
  };
  for (const row of rows) {
    const fields = sanitizable(row.model);
    kept.push(row.model);
    for (const [name, value] of Object.entries(row.fields)) {
      kept.push(name);
      if (!fields.has(name)) {
        if (typeof value === "string") kept.push(value);
        else if (value !== null && typeof value === "object") kept.push(JSON.stringify(value));
        continue;
      }
      if (isDatetimeField(row.model, name)) continue;
      if (typeof value === "string") {
        add(value);
        if (/^[^@]+@[^@]+$/.test(value)) add(value.split("@")[1]);
        add(urlparse(value)?.hostname);
      } else if (value !== null && typeof value === "object") {
        for (const s of JSON.stringify(value).match(/"(?:[^"\\]|\\.)*"/g) ?? []) add(JSON.parse(s));
      }
    }
  }
  const keptText = kept.join("\n");
  return [...secrets].filter((s) => !keptText.includes(s));
}

let populated: string;

/** Python's orjson, where installed (Sentry writes sanitized exports with it). */
const HAS_ORJSON = spawnSync("python3", ["-c", "import orjson"]).status === 0;

/** orjson's re-serialization of `text` (indented or compact), through Python's json parser. */
function orjsonRedump(text: string, indent: boolean): string {
  const script = `import sys, json, orjson
sys.stdout.buffer.write(orjson.dumps(json.loads(sys.stdin.buffer.read()), option=${indent ? "orjson.OPT_INDENT_2" : "0"}))`;
  const r = spawnSync("python3", ["-c", script], { input: text, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString("utf8");
}

beforeAll(async () => {
  const db = await freshDb("sqlite");
  const store = await db.open();
  try {
    await populate(store, { seed: 5, rows: 3 });
    populated = await exportText(store, { scope: "Global" });
  } finally {
    await store.close();
    await db.dispose();
  }
});

describe("an export of every model", () => {
  let input: Row[];
  let output: Row[];
  let out: string;
  let result: SanitizeResult;

  beforeAll(async () => {
    ({ out, result } = await sanitize(populated, { daysOffset: 10 }));
    input = JSON.parse(populated);
    output = JSON.parse(out);
  });

  it("keeps every entry, in order, with its model and pk", () => {
    expect(output.length).toBe(input.length);
    expect(input.length).toBeGreaterThan(200);
    expect(output.map((r) => [r.model, r.pk])).toEqual(input.map((r) => [r.model, r.pk]));
    expect(result.dropped.size).toBe(0);
    expect([...result.written.values()].reduce((a, b) => a + b)).toBe(input.length);
  });

  it("replaces every sanitizable field of every model, and leaves every other field as it was", () => {
    const replaced = new Set<string>();
    for (const [i, before] of input.entries()) {
      const after = output[i];
      const fields = sanitizable(before.model);
      expect(Object.keys(after.fields)).toEqual(Object.keys(before.fields));
      for (const [name, value] of Object.entries(before.fields)) {
        const where = `${before.model} pk ${before.pk} ${name}`;
        if (fields.has(name)) {
          if (value === null || value === "") continue;
          expect(after.fields[name], where).not.toEqual(value);
          replaced.add(`${before.model}.${name}`);
        } else if (!(OPTION_MODELS.has(before.model) && name === "value")) {
          expect(after.fields[name], where).toEqual(value);
        }
      }
    }
    // Every sanitizable field populate fills was seen replaced.
    for (const model of registry.relocatable()) {
      if (!input.some((r) => r.model === model.name)) continue;
      for (const field of sanitizable(model.name)) {
        const filled = input.some(
          (r) => r.model === model.name && r.fields[field] != null && r.fields[field] !== "",
        );
        if (filled) expect(replaced, `${model.name}.${field}`).toContain(`${model.name}.${field}`);
      }
    }
    expect(replaced.size).toBeGreaterThan(100);
  });

  it("lets no original name, address, username, IP, token, secret or key through", () => {
    const secrets = secretsOf(input);
    expect(secrets.length).toBeGreaterThan(150);
    const leaked = secrets.filter((s) => out.includes(s) || out.includes(JSON.stringify(s).slice(1, -1)));
    expect(leaked).toEqual([]);
  });

  it("keeps unique fields unique", () => {
    for (const model of registry.relocatable()) {
      const rows = output.filter((r) => r.model === model.name);
      for (const unique of model.uniques) {
        const keys = rows.map((r) => JSON.stringify(unique.map((f) => r.fields[f])));
        expect(new Set(keys).size, `${model.name} (${unique.join(", ")})`).toBe(keys.length);
      }
    }
  });

  it("moves every datetime by the offset and jitter, keeping the order of all of them", () => {
    const pairs: [number, number][] = [];
    for (const [i, before] of input.entries()) {
      for (const [name, value] of Object.entries(before.fields)) {
        if (!isDatetimeField(before.model, name)) continue;
        const after = output[i].fields[name];
        if (value === null) {
          expect(after).toBeNull();
          continue;
        }
        expect(after).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$/);
        pairs.push([(parseDatetime(value) as number) / 1000, (parseDatetime(after) as number) / 1000]);
      }
    }
    expect(pairs.length).toBeGreaterThan(300);
    const sorted = [...new Map(pairs.map((p) => [p[0], p])).values()].sort((a, b) => a[0] - b[0]);
    expect(result.datetimes).toBe(sorted.length);
    for (let i = 0; i < sorted.length; i++) {
      const [old, moved] = sorted[i];
      const prev = sorted[Math.max(i - 1, 0)][0];
      const next = sorted[Math.min(i + 1, sorted.length - 1)][0];
      const shift = moved - old - 10 * 86_400_000;
      expect(shift).toBeGreaterThanOrEqual(-Math.ceil((old - prev) / 2) - 1);
      expect(shift).toBeLessThanOrEqual(Math.ceil((next - old) / 2) + 1);
      if (i > 0) expect(moved).toBeGreaterThanOrEqual(sorted[i - 1][1]);
    }
    // Equal datetimes stay equal.
    for (const [old, moved] of pairs) expect(moved).toBe(sorted.find((p) => p[0] === old)?.[1]);
  });

  it("gives name+slug models a Title Case two-word name and the slug of it", () => {
    const models = [
      "sentry.organization",
      "sentry.team",
      "sentry.project",
      "sentry.monitor",
      "sentry.sentryapp",
    ];
    for (const row of output.filter((r) => models.includes(r.model))) {
      expect(row.fields.name).toMatch(/^[A-Z][a-z]+ [A-Z][a-z]+$/);
      if (row.fields.slug !== null)
        expect(row.fields.slug).toMatch(new RegExp(`^${slugify(row.fields.name)}(-\\d+)?$`));
    }
  });

  it("maps an address the same way everywhere, and one domain to one domain", () => {
    const pairs = new Map<string, string>();
    for (const [i, before] of input.entries()) {
      for (const [name, value] of Object.entries(before.fields)) {
        if (typeof value !== "string" || !(name === "email" || name.endsWith("_email"))) continue;
        const after = output[i].fields[name];
        if (pairs.has(value)) expect(after).toBe(pairs.get(value));
        pairs.set(value, after);
      }
    }
    expect(pairs.size).toBeGreaterThan(3);
    const domains = new Map<string, Set<string>>();
    for (const [before, after] of pairs) {
      const d = before.split("@")[1];
      domains.set(d, (domains.get(d) ?? new Set()).add(after.split("@")[1]));
    }
    for (const mapped of domains.values()) expect(mapped.size).toBe(1);
  });

  it("keeps IP versions, UUID forms and URL shapes", () => {
    const ips = output.filter((r) => r.model === "sentry.userip");
    const before = input.filter((r) => r.model === "sentry.userip");
    expect(ips.map((r) => isIP(r.fields.ip_address))).toEqual(before.map((r) => isIP(r.fields.ip_address)));
    expect(new Set(before.map((r) => isIP(r.fields.ip_address)))).toEqual(new Set([4, 6]));
    for (const r of output.filter((r) => r.model === "sentry.monitor")) {
      expect(r.fields.guid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    for (const [i, r] of input.entries()) {
      if (r.model !== "sentry.apiapplication") continue;
      const url = output[i].fields.homepage_url;
      expect(urlparse(url)?.hostname).toBeTruthy();
      expect(url.length).toBeLessThanOrEqual(r.fields.homepage_url.length);
    }
  });

  it("gives API tokens new tokens with matching hashes, last characters and kind", () => {
    for (const r of output.filter((r) => r.model === "sentry.apitoken")) {
      const f = r.fields;
      expect(f.hashed_token).toBe(createHash("sha256").update(f.token).digest("hex"));
      expect(f.hashed_refresh_token).toBe(createHash("sha256").update(f.refresh_token).digest("hex"));
      expect(f.token_last_characters).toBe(f.token.slice(-4));
      expect(f.token.startsWith(f.token_type ?? "")).toBe(true);
      expect(f.token.slice((f.token_type ?? "").length)).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("writes orjson's indented layout: `: ` after keys, no space after commas, no final newline", () => {
    expect(out.startsWith('[\n  {\n    "model": ')).toBe(true);
    expect(out.endsWith("\n    }\n  }\n]")).toBe(true);
    expect(out).not.toMatch(/,[ \n]*\n\s*[}\]]/);
    expect(out).toContain('"café');
    expect(out).not.toContain("\\u00e9");
  });

  it("writes the compact form with +00:00 datetimes for an encrypted export", async () => {
    const { out: compact } = await sanitize(populated, { compact: true });
    expect(compact).not.toContain("\n");
    expect(compact.startsWith('[{"model":')).toBe(true);
    expect(compact).toMatch(/"date_added":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00"/);
    expect(compact).not.toMatch(/\d\d(\.\d{6})?Z"/);
    expect(JSON.parse(compact).length).toBe(input.length);
  });

  it("reports its progress: every entry of the checking pass, then of the writing pass", async () => {
    const calls: [number, number][] = [];
    await sanitize(populated, { onProgress: (pass, n) => calls.push([pass, n]) });
    const expected = input.map((_, i) => [1, i + 1]).concat(input.map((_, i) => [2, i + 1]));
    expect(calls).toEqual(expected);
  });

  it.skipIf(!HAS_ORJSON)("writes exactly the bytes orjson writes for the same values", async () => {
    expect(orjsonRedump(out, true)).toBe(out);
    const { out: compact } = await sanitize(populated, { compact: true });
    expect(orjsonRedump(compact, false)).toBe(compact);
  });

  it("draws new values each time", async () => {
    const again = JSON.parse((await sanitize(populated)).out) as Row[];
    const users = (rows: Row[]) =>
      rows.filter((r) => r.model === "sentry.user").map((r) => r.fields.username);
    expect(users(again)).not.toEqual(users(output));
  });
});

const fixtures = readdirSync(FIXTURES).filter((f) => f.endsWith(".json"));

describe("Sentry's fixtures", () => {
  for (const name of fixtures) {
    it(`${name}: entries kept, no secret left`, async () => {
      const text = readFileSync(fixture(name), "utf8");
      const input = JSON.parse(text) as Row[];
      const { out } = await sanitize(text);
      const output = JSON.parse(out) as Row[];
      expect(output.map((r) => [r.model, r.pk])).toEqual(input.map((r) => [r.model, r.pk]));
      const leaked = secretsOf(input).filter((s) => out.includes(s));
      expect(leaked).toEqual([]);
    });
  }

  it("fresh-install.json: Sentry's overrides (authenticator config, relay ids, app credentials)", async () => {
    const input = JSON.parse(readFileSync(fixture("fresh-install.json"), "utf8")) as Row[];
    const output = JSON.parse((await sanitize(JSON.stringify(input))).out) as Row[];
    const of = (rows: Row[], model: string) => rows.filter((r) => r.model === model).map((r) => r.fields);
    for (const config of of(output, "sentry.authenticator").map((f) => f.config)) expect(config).toBe('""');
    const [relay] = of(output, "sentry.relay");
    const [usage] = of(output, "sentry.relayusage");
    expect(relay.relay_id).toBe(usage.relay_id);
    expect(relay.relay_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4/);
    expect(relay.public_key).toBe(usage.public_key);
    expect(relay.public_key).toHaveLength(43);
    const [app] = of(output, "sentry.apiapplication");
    expect(app.client_id).toMatch(/^[0-9a-f]{64}$/);
    expect(app.client_secret).toMatch(/^[0-9a-f]{64}$/);
    expect([app.allowed_origins, app.redirect_uris]).toEqual(["", ""]);
    // Users, their emails and their addresses still agree.
    const users = of(output, "sentry.user");
    expect(of(output, "sentry.useremail").map((f) => f.email)).toEqual(users.map((u) => u.email));
    expect(of(output, "sentry.email").map((f) => f.email)).toEqual(users.map((u) => u.email));
    expect(of(output, "sentry.organizationmember")[0].user_email).toBe(users[0].email);
    // The team and the organization had the same name and slug; they still do.
    const [org] = of(output, "sentry.organization");
    const [team] = of(output, "sentry.team");
    expect([team.name, team.slug]).toEqual([org.name, org.slug]);
  });
});

describe("values sanitize keeps", () => {
  it("are written from their own text: key order, float forms and big integers survive", async () => {
    const text = `[{"model":"sentry.projectoption","pk":7,"fields":{"project":1,"key":"sentry:x",
      "value":{"b":1,"10":2,"f":100.0,"e":1.5e-07,"big":123456789012345678901234567890}}}]`;
    const { out } = await sanitize(text);
    expect(out).toBe(
      '[\n  {\n    "model": "sentry.projectoption",\n    "pk": 7,\n    "fields": {\n      "project": 1,\n      "key": "sentry:x",\n      "value": {\n        "b": 1,\n        "10": 2,\n        "f": 100.0,\n        "e": 1.5e-7,\n        "big": 123456789012345678901234567890\n      }\n    }\n  }\n]',
    );
  });

  it("include options, except values whose key names a secret, a URL or an address", async () => {
    const rows = [
      { model: "sentry.option", pk: 1, fields: { key: "mail.password", value: '"hunter2-hunter2"' } },
      { model: "sentry.option", pk: 2, fields: { key: "system.admin-email", value: '"root@corp.example"' } },
      {
        model: "sentry.projectoption",
        pk: 3,
        fields: { project: 1, key: "sentry:token", value: "abcdef0123456789" },
      },
      { model: "sentry.option", pk: 4, fields: { key: "system.url-prefix", value: '"https://sentry.corp"' } },
      {
        model: "sentry.projectoption",
        pk: 5,
        fields: { project: 1, key: "sentry:token_header", value: '"X-Token"' },
      },
    ];
    const out = JSON.parse((await sanitize(JSON.stringify(rows))).out) as Row[];
    const password = JSON.parse(out[0].fields.value);
    expect(password).toHaveLength("hunter2-hunter2".length);
    expect(password).not.toBe("hunter2-hunter2");
    expect(JSON.parse(out[1].fields.value)).toMatch(/^[^@]{4}@[^@]{12}$/);
    expect(out[2].fields.value).toMatch(/^[0-9a-f]{16}$/);
    expect(out[2].fields.value).not.toBe("abcdef0123456789");
    expect(JSON.parse(out[3].fields.value)).toMatch(/^[a-z]{5}:\/\/[a-z]{6}\.[a-z]{4}$/);
    expect(out[3].fields.value).not.toContain("sentry.corp");
    // The name of the header a token comes in is not a secret.
    expect(out[4].fields.value).toBe('"X-Token"');
  });
});

describe("models", () => {
  it("relo does not define are dropped (and counted); old exports' actors are kept for their owners", async () => {
    const rows = [
      { model: "sentry.doesnotexist", pk: 1, fields: { secret: "s3cr3t-value" } },
      { model: "sentry.actor", pk: 1, fields: { type: 1, user_id: 1, team: null } },
      {
        model: "sentry.email",
        pk: 1,
        fields: { email: "a@b.example", date_added: "2023-01-01T00:00:00.000Z" },
      },
      { model: "sentry.doesnotexist", pk: 2, fields: {} },
    ];
    const { out, result } = await sanitize(JSON.stringify(rows));
    const output = JSON.parse(out) as Row[];
    expect(output.map((r) => r.model)).toEqual(["sentry.actor", "sentry.email"]);
    expect(output[0].fields).toEqual(rows[1].fields);
    expect([...result.dropped]).toEqual([["sentry.doesnotexist", 2]]);
    expect(out).not.toContain("s3cr3t-value");
  });

  it("set Sentry's literal `events` and `languages` even when the row lacks them", async () => {
    const rows = [
      { model: "sentry.repository", pk: 1, fields: { organization_id: 1, name: "repo", config: {} } },
    ];
    const [repo] = JSON.parse((await sanitize(JSON.stringify(rows))).out) as Row[];
    expect(Object.keys(repo.fields)).toEqual(["organization_id", "name", "config", "languages"]);
    expect(repo.fields.languages).toBe("[]");
  });

  it("[] stays []", async () => {
    expect((await sanitize("[]")).out).toBe("[]");
    expect((await sanitize("[]", { compact: true })).out).toBe("[]");
  });
});

describe("bad input is refused before anything is written", () => {
  it("invalid JSON: the byte offset", async () => {
    const { written, error } = await failure(
      '[{"model": "sentry.email", "pk": 1, "fields": {}}, {"model": x}]',
    );
    expect(error).toBeInstanceOf(JsonSyntaxError);
    expect((error as JsonSyntaxError).offset).toBe(61);
    expect(error.message).toMatch(/^invalid JSON at byte 61: /);
    expect(written).toBe("");
  });

  it("an element that is not an entry", async () => {
    const { written, error } = await failure('[{"model": "sentry.email", "pk": 1, "fields": {}}, [1, 2]]');
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      'Invalid JSON: array element 1 at byte 51 is not an export entry (an object with a string "model" and an object "fields")',
    );
    expect(written).toBe("");
  });

  it("a datetime that is not one: model, element, pk, byte offset and field", async () => {
    const text =
      '[{"model": "sentry.email", "pk": 4, "fields": {"email": "a@b.c", "date_added": "last tuesday"}}]';
    const { written, error } = await failure(text);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(
      "Cannot sanitize sentry.email (array element 0, pk 4) at byte 1: field `date_added`: Existing value must be a valid ISO-8601 datetime string",
    );
    expect(written).toBe("");
  });

  it("a number where text belongs, and a UUID field that holds no UUID", async () => {
    const number = await failure('[{"model": "sentry.user", "pk": 1, "fields": {"username": 42}}]');
    expect(number.error.message).toMatch(
      /sentry\.user .* field `username`: Existing value must be a string$/,
    );
    const uuid = await failure('[{"model": "sentry.monitor", "pk": 2, "fields": {"guid": "not-a-uuid"}}]');
    expect(uuid.error.message).toMatch(
      /sentry\.monitor .* field `guid`: Existing value must be a valid UUID$/,
    );
  });

  it("a text column merely named like a UUID is randomized as text (Sentry fails)", async () => {
    const rows = [{ model: "sentry.sentryapp", pk: 1, fields: { name: "App", uuid: "uuid-sentryapp-0" } }];
    const [app] = JSON.parse((await sanitize(JSON.stringify(rows))).out) as Row[];
    expect(app.fields.uuid).toHaveLength("uuid-sentryapp-0".length);
    expect(app.fields.uuid).not.toBe("uuid-sentryapp-0");
  });
});
