/**
 * The model registry against Sentry's own description of its models
 * (fixtures/backup/model_dependencies/detailed.json) and its global import order (sorted.json).
 */
import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { dependenciesOf, dependencyOrder, Registry, registry } from "../src/models/registry.js";
import type { FieldDef, ForeignKeyKind, ModelDef, RelocationScope, Silo } from "../src/models/types.js";

const FIXTURES = resolve(import.meta.dirname, "../../shared/fixtures/sentry");
const DEPS_DIR = resolve(FIXTURES, "model_dependencies");

interface DetailedForeignKey {
  model: string;
  kind: ForeignKeyKind;
  nullable: boolean;
}

interface DetailedModel {
  model: string;
  table_name: string;
  silos: Silo[];
  relocation_scope: RelocationScope | RelocationScope[];
  foreign_keys: Record<string, DetailedForeignKey>;
  uniques: string[][];
  relocation_dependencies: string[];
  dangling: boolean;
}

const detailed: Record<string, DetailedModel> = JSON.parse(
  readFileSync(resolve(DEPS_DIR, "detailed.json"), "utf8"),
);
const sorted: string[] = JSON.parse(readFileSync(resolve(DEPS_DIR, "sorted.json"), "utf8"));
const sortedIndex = new Map(sorted.map((name, i) => [name, i]));

/** Every model of detailed.json whose relocation scope is not Excluded: relo defines them all. */
const RELOCATABLE = Object.values(detailed)
  .filter((d) => d.relocation_scope !== "Excluded")
  .map((d) => d.model)
  .sort();

/** Excluded tables relo writes itself while importing. */
const INTERNALS = [
  "sentry.controlimportchunk",
  "sentry.controlimportchunkreplica",
  "sentry.lostpasswordhash",
  "sentry.organizationslugreservation",
  "sentry.regionimportchunk",
];

/** relo's own tables (the embedded event stream and its counters): not Sentry models. */
const RELO_TABLES = ["relo.eventstream", "relo.eventstreamoffset", "relo.tsdbcounter"];

/** Unique sets compared as sets of sets. */
function normalizeUniques(uniques: string[][]): string[] {
  return uniques.map((u) => JSON.stringify([...u].sort())).sort();
}

/**
 * Sentry's unique sets, named by field: Sentry sometimes names a foreign key by its column
 * (`organization_id` for the field `organization`).
 */
function sentryUniquesByField(model: ModelDef, d: DetailedModel): string[][] {
  const byColumn = new Map(model.fields.map((f) => [f.column, f.name]));
  const names = new Set(model.fields.map((f) => f.name));
  return d.uniques.map((set) => set.map((n) => (names.has(n) ? n : (byColumn.get(n) ?? n))));
}

function foreignKeysOf(model: ModelDef): Record<string, DetailedForeignKey> {
  const out: Record<string, DetailedForeignKey> = {};
  for (const field of model.fields) {
    if (field.fk) out[field.name] = { model: field.fk.model, kind: field.fk.kind, nullable: field.nullable };
  }
  return out;
}

/** A model definition carrying only what the dependency order reads. */
function stub(
  name: string,
  fks: Record<string, string> = {},
  relocationDependencies: string[] = [],
): ModelDef {
  const fields: FieldDef[] = Object.entries(fks).map(([field, target]) => ({
    name: field,
    column: field,
    type: "bigint",
    nullable: false,
    fk: { model: target, kind: "FlexibleForeignKey" },
  }));
  return {
    name,
    table: name.replace(".", "_"),
    silos: ["Region"],
    scope: "Excluded",
    fields,
    uniques: [],
    relocationDependencies,
  };
}

/** Every model of detailed.json as a definition: its foreign keys and relocation dependencies. */
function stubsFromDetailed(): ModelDef[] {
  return Object.values(detailed).map((d) => ({
    name: d.model,
    table: d.table_name,
    silos: d.silos,
    scope: d.relocation_scope,
    fields: Object.entries(d.foreign_keys).map(([field, fk]) => ({
      name: field,
      column: field,
      type: "bigint" as const,
      nullable: fk.nullable,
      fk: { model: fk.model, kind: fk.kind },
    })),
    uniques: d.uniques,
    relocationDependencies: d.relocation_dependencies,
    dangling: d.dangling,
  }));
}

/**
 * The pass of Sentry's sort in which each model of detailed.json is placed (1 = the first,
 * ascending pass), by simulating it directly on detailed.json.
 */
function sentryPasses(): Map<string, number> {
  const deps = new Map(
    Object.values(detailed).map((d) => [
      d.model,
      [
        ...new Set([...Object.values(d.foreign_keys).map((fk) => fk.model), ...d.relocation_dependencies]),
      ].filter((t) => t !== d.model),
    ]),
  );
  const pass = new Map<string, number>();
  let work = [...deps.keys()].sort();
  for (let n = 1; work.length > 0; n++) {
    const deferred: string[] = [];
    for (const name of work) {
      if (deps.get(name)!.every((d) => pass.has(d) || !deps.has(d))) pass.set(name, n);
      else deferred.push(name);
    }
    if (deferred.length === work.length) throw new Error("cycle in detailed.json");
    work = deferred.sort().reverse();
  }
  return pass;
}

/** Pairs of models whose relative order differs from sorted.json's. */
function disagreements(names: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; i++) {
    for (let j = i + 1; j < names.length; j++) {
      if (sortedIndex.get(names[i])! > sortedIndex.get(names[j])!) out.push(`${names[i]} before ${names[j]}`);
    }
  }
  return out;
}

describe("registry definitions match detailed.json", () => {
  const names = registry.ordered.map((m) => m.name).filter((n) => !RELO_TABLES.includes(n));

  it("every model is in detailed.json", () => {
    expect(names.filter((n) => !(n in detailed))).toEqual([]);
  });

  describe.each(names)("%s", (name) => {
    const model = registry.get(name)!;
    const d = detailed[name];

    it("has Sentry's table, silos and relocation scope", () => {
      expect(model.table).toBe(d.table_name);
      expect(model.silos).toEqual(d.silos);
      expect(model.scope).toEqual(d.relocation_scope);
    });

    it("has exactly Sentry's foreign keys (target, kind, nullable)", () => {
      expect(foreignKeysOf(model)).toEqual(d.foreign_keys);
    });

    it("has Sentry's unique sets", () => {
      expect(normalizeUniques(model.uniques)).toEqual(normalizeUniques(sentryUniquesByField(model, d)));
    });

    it("has Sentry's relocation dependencies and dangling flag", () => {
      expect([...(model.relocationDependencies ?? [])].sort()).toEqual([...d.relocation_dependencies].sort());
      expect(model.dangling ?? false).toBe(d.dangling);
    });

    it("has unique field names and columns, and every unique-set field exists", () => {
      const fieldNames = model.fields.map((f) => f.name);
      expect(new Set(fieldNames).size).toBe(fieldNames.length);
      const columns = model.fields.map((f) => f.column);
      expect(new Set(columns).size).toBe(columns.length);
      for (const set of model.uniques)
        for (const field of set) expect(["id", ...fieldNames]).toContain(field);
    });
  });

  it("names an existing unique set and field in every conditional unique set", () => {
    for (const model of registry.ordered) {
      for (const [key, cond] of Object.entries(model.uniqueConditions ?? {})) {
        expect(
          model.uniques.map((set) => set.join(",")),
          model.name,
        ).toContain(key);
        expect(
          model.fields.map((f) => f.name),
          model.name,
        ).toContain(cond.field);
      }
    }
  });

  it("defines every non-Excluded model of detailed.json (95), plus internal ones", () => {
    expect(RELOCATABLE).toHaveLength(95);
    const missing = RELOCATABLE.filter((name) => !registry.has(name));
    expect(missing, "non-Excluded models of detailed.json relo does not define").toEqual([]);
    const excluded = names.filter((n) => !RELOCATABLE.includes(n));
    for (const name of excluded) expect(detailed[name].relocation_scope, name).toBe("Excluded");
    for (const name of INTERNALS) expect(excluded).toContain(name);
  });

  it("defines every field of the models the shared fixtures hold, with a matching JSON type", () => {
    const seen = new Map<string, Map<string, Set<string>>>();
    for (const file of readdirSync(FIXTURES).filter((n) => n.endsWith(".json"))) {
      if (file === "invalid-user.json") continue;
      for (const entry of JSON.parse(readFileSync(resolve(FIXTURES, file), "utf8"))) {
        const fields = seen.get(entry.model) ?? new Map<string, Set<string>>();
        seen.set(entry.model, fields);
        for (const [k, v] of Object.entries(entry.fields)) {
          const types = fields.get(k) ?? new Set<string>();
          types.add(v === null ? "null" : typeof v);
          fields.set(k, types);
        }
      }
    }
    for (const [modelName, fields] of seen) {
      const model = registry.get(modelName)!;
      expect(model, modelName).toBeDefined();
      const defined = new Map(model.fields.map((f) => [f.name, f]));
      for (const [name, types] of fields) {
        const field = defined.get(name);
        expect(field, `${modelName}.${name}`).toBeDefined();
        if (types.has("null")) expect(field!.nullable, `${modelName}.${name} nullable`).toBe(true);
      }
    }
  });
});

describe("import order", () => {
  it("dependencyOrder reproduces sorted.json from all of detailed.json", () => {
    expect(dependencyOrder(stubsFromDetailed())).toEqual(sorted);
  });

  it("registry.ordered agrees with sorted.json for every pair of models", () => {
    const names = registry.ordered.map((m) => m.name).filter((n) => !RELO_TABLES.includes(n));
    expect(names.filter((n) => !sortedIndex.has(n))).toEqual([]);
    expect(disagreements(names)).toEqual([]);
    expect(names).toEqual([...names].sort((a, b) => sortedIndex.get(a)! - sortedIndex.get(b)!));
  });

  it("registry.relocatable() agrees with sorted.json and holds exactly the non-Excluded models", () => {
    const names = registry.relocatable().map((m) => m.name);
    expect(disagreements(names)).toEqual([]);
    expect(names.slice().sort()).toEqual(RELOCATABLE);
  });

  it("registry.relocatable() is sorted.json without its Excluded models", () => {
    expect(registry.relocatable().map((m) => m.name)).toEqual(sorted.filter((n) => RELOCATABLE.includes(n)));
  });

  it("every scope's models agree with sorted.json", () => {
    for (const scope of ["User", "Organization", "Config", "Global"] as const) {
      expect(disagreements(registry.inScope(scope).map((m) => m.name))).toEqual([]);
    }
  });

  it("every dependency precedes its dependant", () => {
    const position = new Map(registry.ordered.map((m, i) => [m.name, i]));
    for (const model of registry.ordered) {
      for (const dep of dependenciesOf(model)) {
        if (position.has(dep))
          expect(position.get(dep)!, `${dep} before ${model.name}`).toBeLessThan(position.get(model.name)!);
      }
    }
  });

  /**
   * dependencyOrder keeps models that are referenced but not defined in the sort, as models
   * without dependencies. That is exact when Sentry places each of them in its first pass too.
   */
  it("every referenced but undefined model is placed in Sentry's first pass", () => {
    const passes = sentryPasses();
    const referenced = new Set(
      registry.ordered.flatMap((m) => dependenciesOf(m)).filter((d) => !registry.has(d)),
    );
    expect([...referenced]).toEqual([]);
    for (const name of referenced) expect(passes.get(name), name).toBe(1);
  });

  it("an undefined dependency still delays its dependant as in Sentry, and is left out", () => {
    // sentry.project is walked before sentry.projecttemplate in the first pass, so it waits a pass.
    const models = [stub("sentry.project", { template: "sentry.projecttemplate" }), stub("sentry.user")];
    expect(dependencyOrder(models)).toEqual(["sentry.user", "sentry.project"]);
    // A dependency walked earlier in the first pass does not delay anything.
    expect(dependencyOrder([stub("sentry.b", { a: "sentry.a" }), stub("sentry.c")])).toEqual([
      "sentry.b",
      "sentry.c",
    ]);
  });

  it("later passes walk the deferred models in descending name order", () => {
    const models = [
      stub("sentry.a", { z: "sentry.z" }),
      stub("sentry.b", { z: "sentry.z" }),
      stub("sentry.z"),
      stub("sentry.c", { b: "sentry.b" }),
    ];
    // Pass 1: z. Pass 2 (descending): c waits for b, then b, a. Pass 3: c.
    expect(dependencyOrder(models)).toEqual(["sentry.z", "sentry.b", "sentry.a", "sentry.c"]);
  });

  it("ignores self-references and counts relocation dependencies", () => {
    const models = [stub("sentry.a", { parent: "sentry.a" }, ["sentry.b"]), stub("sentry.b")];
    expect(dependencyOrder(models)).toEqual(["sentry.b", "sentry.a"]);
  });

  it("throws on a dependency cycle, naming the models left", () => {
    const models = [
      stub("sentry.a", { b: "sentry.b" }),
      stub("sentry.b", { a: "sentry.a" }),
      stub("sentry.c"),
    ];
    expect(() => dependencyOrder(models)).toThrow(
      "Can't resolve dependencies for sentry.a, sentry.b in serialized app list.",
    );
    expect(() => new Registry(models)).toThrow("Can't resolve dependencies for");
  });

  it("throws on a cycle through relocation dependencies", () => {
    const models = [stub("sentry.a", {}, ["sentry.b"]), stub("sentry.b", {}, ["sentry.a"])];
    expect(() => dependencyOrder(models)).toThrow(/^Can't resolve dependencies for sentry\.a, sentry\.b/);
  });

  it("rejects a model defined twice", () => {
    expect(() => new Registry([stub("sentry.a"), stub("sentry.a")])).toThrow("a model is defined twice");
  });
});
