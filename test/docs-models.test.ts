/**
 * docs/models.md stays current: it lists every relocatable model with its scope, silo and table,
 * and each export scope's models.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect, it } from "vitest";
import { possibleScopes, registry } from "../src/models/registry.js";

const doc = readFileSync(resolve(import.meta.dirname, "../docs/models.md"), "utf8");

it("lists every relocatable model, in export order, with its scope, silo and table", () => {
  const rows = doc
    .split("\n")
    .filter((l) => /^\| `[a-z_]+\.[a-z_]+` +\|/.test(l))
    .map((l) => l.split("|").map((c) => c.trim()));
  expect(rows.map((r) => r[1])).toEqual(registry.relocatable().map((m) => `\`${m.name}\``));
  for (const [, name, scope, silo, table] of rows) {
    const model = registry.get(name.replace(/`/g, ""))!;
    expect(scope, name).toBe(possibleScopes(model).join(" or "));
    expect(silo, name).toBe(model.silos.join(", "));
    expect(table, name).toBe(`\`${model.table}\``);
  }
});

it("lists each export scope's models", () => {
  for (const scope of ["User", "Organization", "Config", "Global"] as const) {
    const heading = doc.indexOf(`### ${scope} (`);
    expect(heading, scope).toBeGreaterThan(0);
    const list = doc.slice(heading).split("\n\n")[1].replace(/\s+/g, " ").trim();
    expect(list, scope).toBe(
      registry
        .inScope(scope)
        .map((m) => `\`${m.name}\``)
        .join(", "),
    );
  }
});
