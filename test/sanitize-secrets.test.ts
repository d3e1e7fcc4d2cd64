/**
 * Secrets and addresses sanitize finds inside values: plugin and instance options whose key names
 * a webhook or URL, a key, a token, a secret or a password (in every form an option value takes),
 * and the addresses in ownership rules, mapped like the same address everywhere else. Options
 * that hold none of these are written back exactly.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { optionKind } from "../src/backup/sanitize/rules.js";
import { sanitizeExport } from "../src/backup/sanitize/run.js";

interface Row {
  model: string;
  pk: number;
  fields: Record<string, any>;
}

async function sanitize(rows: unknown[]): Promise<Row[]> {
  const source = {
    async *open() {
      yield Buffer.from(JSON.stringify(rows), "utf8");
    },
  };
  const sink = new PassThrough();
  const chunks: Buffer[] = [];
  sink.on("data", (c: Buffer) => chunks.push(c));
  await sanitizeExport(source, sink);
  sink.end();
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Row[];
}

const projectOption = (pk: number, key: string, value: unknown) => ({
  model: "sentry.projectoption",
  pk,
  fields: { project: 1, key, value },
});

describe("option values", () => {
  it("of plugins' webhooks, write keys and service keys are replaced, keeping their form", async () => {
    const rows = [
      projectOption(1, "slack:webhook", '"https://hooks.slack.com/services/T0ABC/B0DEF/Xy9SecretPart"'),
      projectOption(2, "segment:write_key", '"wk_9f8e7d6c5b4a"'),
      projectOption(3, "pagerduty:service_key", '"a1b2c3d4e5f6a7b8c9d0"'),
      projectOption(4, "opsgenie:api_key", '"0f3c9a7e-opsgenie"'),
      projectOption(5, "pushover:userkey", '"uQiRzpo4DXghDmr9QzzfQu27cmVRsG"'),
      projectOption(6, "webhooks:urls", '"https://hooks.acme-corp.com/a\\nhttps://ci.acme-corp.com/b"'),
      projectOption(7, "amazon-sqs:secret_key", '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"'),
      {
        model: "sentry.option",
        pk: 1,
        fields: { key: "github-app.webhook-secret", value: '"whsec-b7e1d2"' },
      },
      { model: "sentry.option", pk: 2, fields: { key: "github-app.private-key", value: '"-----BEGIN RSA"' } },
    ];
    const out = await sanitize(rows);
    const text = JSON.stringify(out);
    for (const secret of [
      "hooks.slack.com",
      "Xy9SecretPart",
      "wk_9f8e7d6c5b4a",
      "a1b2c3d4e5f6a7b8c9d0",
      "0f3c9a7e",
      "uQiRzpo4DXghDmr9QzzfQu27cmVRsG",
      "acme-corp",
      "wJalrXUtnFEMI",
      "b7e1d2",
      "BEGIN",
    ]) {
      expect(text, secret).not.toContain(secret);
    }
    // Each value is still JSON text of a string of the same length.
    for (const [i, row] of out.entries()) {
      const before = JSON.parse(rows[i].fields.value as string) as string;
      const after = JSON.parse(row.fields.value) as string;
      expect(after, row.fields.key).toHaveLength(before.length);
    }
    // The webhook is still a URL; the list of URLs still two URLs, one per line.
    expect(JSON.parse(out[0].fields.value)).toMatch(/^[a-z]{5}:\/\/[a-z]{5}\.[a-z]{5}\.[a-z]{3}\//);
    expect(JSON.parse(out[5].fields.value)).toMatch(/^[a-z]{5}:\/\/\S+\n[a-z]{5}:\/\/\S+$/);
  });

  it("inside JSON (a list, an object, as text or as a value) have their strings replaced, not their keys", async () => {
    const rows = [
      projectOption(1, "webhooks:urls", '["https://hooks.acme-corp.com/x", "https://ci.acme-corp.com/y"]'),
      projectOption(2, "sentry:relay_token", { token: "tok-acme-0001", count: 1.0, on: true }),
    ];
    const out = await sanitize(rows);
    const list = JSON.parse(out[0].fields.value) as string[];
    expect(list).toHaveLength(2);
    for (const url of list) expect(url).toMatch(/^[a-z]{5}:\/\/[^/]+\/[a-z]$/);
    expect(JSON.stringify(out)).not.toContain("acme");
    expect(Object.keys(out[1].fields.value)).toEqual(["token", "count", "on"]);
    expect(out[1].fields.value.token).toHaveLength("tok-acme-0001".length);
    expect(out[1].fields.value.token).not.toBe("tok-acme-0001");
    expect(out[1].fields.value.on).toBe(true);
  });

  it("that hold no secret, URL or address are written back exactly", async () => {
    const rows = [
      projectOption(1, "sentry:origins", '["*"]'),
      projectOption(2, "sentry:token_header", '"X-Sentry-Token"'),
      projectOption(3, "slack:webhook_enabled", "true"),
      projectOption(4, "sentry:resolve_age", 720),
      projectOption(5, "mail:subject_prefix", '"[Acme] "'),
      projectOption(6, "sentry:scrub_defaults", "null"),
      projectOption(7, "key-projectoption-0-a08f", { key: "value-0" }),
      { model: "sentry.useroption", pk: 1, fields: { user: 1, key: "deploy-emails", value: '"3"' } },
      { model: "sentry.option", pk: 1, fields: { key: "sentry:latest_version", value: '"23.6.1"' } },
    ];
    const out = await sanitize(rows);
    expect(out.map((r) => r.fields.value)).toEqual(rows.map((r) => r.fields.value));
  });

  it("are classified by what their key names", () => {
    const kinds: Record<string, string | null> = {
      "slack:webhook": "url",
      "jira:instance_url": "url",
      "system.url-prefix": "url",
      "webhooks:urls": "url",
      "github-app.webhook-secret": "url",
      "segment:write_key": "secret",
      "pagerduty:service_key": "secret",
      "pushover:apikey": "secret",
      "system.root-api-key": "secret",
      "mail.password": "secret",
      "mail.username": "secret",
      "sentry:token": "secret",
      "slack.signing-secret": "secret",
      "system.admin-email": "address",
      "mail.from": "address",
      "sentry:token_header": null,
      "sentry:origins": null,
      "mail:subject_prefix": null,
      "key-option-0-f2f2": null,
      "sentry:option-epoch": null,
    };
    for (const [key, kind] of Object.entries(kinds)) expect(optionKind(key), key).toBe(kind);
  });
});

const user = (pk: number, email: string) => ({
  model: "sentry.user",
  pk,
  fields: { username: `user${pk}`, email, password: "", name: "", date_joined: "2024-01-01T00:00:00.000Z" },
});

const ownership = (pk: number, raw: string | null, schema: unknown) => ({
  model: "sentry.projectownership",
  pk,
  fields: { project: pk, raw, schema, date_created: "2024-01-01T00:00:00.000Z" },
});

describe("ownership rules", () => {
  it("have their owners' addresses replaced by the users' new addresses, in the text and the schema", async () => {
    const raw = [
      "# billing owners, ask alice.smith@acme-corp.com",
      "path:src/billing/* alice.smith@acme-corp.com #billing-team",
      "path:static/icon@2x.png bob@acme-corp.com",
      "tags.email:carol@acme-corp.com alice.smith@acme-corp.com",
    ].join("\n");
    const schema = {
      $version: 1,
      rules: [
        {
          matcher: { type: "path", pattern: "src/billing/*" },
          owners: [
            { type: "user", identifier: "alice.smith@acme-corp.com", id: 1 },
            { type: "team", identifier: "billing-team", id: 4 },
          ],
        },
      ],
    };
    const rows = [
      user(1, "alice.smith@acme-corp.com"),
      user(2, "bob@acme-corp.com"),
      ownership(1, raw, schema),
    ];
    const out = await sanitize(rows);
    const [alice, bob] = [out[0].fields.email as string, out[1].fields.email as string];
    const text = JSON.stringify(out);
    for (const secret of ["alice", "bob@", "carol", "acme-corp"]) expect(text, secret).not.toContain(secret);
    const lines = (out[2].fields.raw as string).split("\n");
    expect(lines[0]).toBe(`# billing owners, ask ${alice}`);
    expect(lines[1]).toBe(`path:src/billing/* ${alice} #billing-team`);
    // A file matcher is a pattern, not an address.
    expect(lines[2]).toBe(`path:static/icon@2x.png ${bob}`);
    expect(lines[3]).toMatch(
      new RegExp(`^tags\\.email:[^@ ]{5}@${literal(alice.split("@")[1])} ${literal(alice)}$`),
    );
    const owners = out[2].fields.schema.rules[0].owners;
    expect(owners[0]).toEqual({ type: "user", identifier: alice, id: 1 });
    expect(owners[1]).toEqual(schema.rules[0].owners[1]);
    expect(out[2].fields.schema.rules[0].matcher).toEqual(schema.rules[0].matcher);
  });

  it("held as JSON text in a string have their owners replaced inside it", async () => {
    const schema = JSON.stringify({
      rules: [{ owners: [{ type: "user", identifier: "dan@acme-corp.com" }] }],
    });
    const out = await sanitize([user(1, "dan@acme-corp.com"), ownership(1, null, schema)]);
    const parsed = JSON.parse(out[1].fields.schema as string);
    expect(parsed.rules[0].owners[0].identifier).toBe(out[0].fields.email);
    expect(out[1].fields.raw).toBeNull();
  });

  it("without addresses are written back exactly", async () => {
    const rows = [ownership(1, "path:src/* #team\nurl:*.js #web", { $version: 1, rules: [], f: 1.0 })];
    const out = await sanitize(rows);
    expect(out[0].fields.raw).toBe(rows[0].fields.raw);
    expect(out[0].fields.schema).toEqual(rows[0].fields.schema);
  });
});

function literal(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
