/**
 * The model registry against Sentry's own description of its models
 * (fixtures/backup/model_dependencies/detailed.json) and its global import order (sorted.json).
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { dependenciesOf, dependencyOrder, Registry, registry } from "../src/models/registry.js";
import type { FieldDef, ForeignKeyKind, ModelDef, RelocationScope, Silo } from "../src/models/types.js";

const DEPS_DIR = resolve(import.meta.dirname, "../../shared/fixtures/sentry/model_dependencies");

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

/** Cohort models: everything relo imports and exports today. */
const COHORT = [
  "sentry.apiapplication",
  "sentry.apitoken",
  "sentry.authenticator",
  "sentry.controloption",
  "sentry.email",
  "sentry.environment",
  "sentry.environmentproject",
  "sentry.integration",
  "sentry.option",
  "sentry.organization",
  "sentry.organizationmember",
  "sentry.organizationmemberteam",
  "sentry.organizationoption",
  "sentry.orgauthtoken",
  "sentry.project",
  "sentry.projectkey",
  "sentry.projectoption",
  "sentry.projectteam",
  "sentry.relay",
  "sentry.relayusage",
  "sentry.rule",
  "sentry.team",
  "sentry.user",
  "sentry.useremail",
  "sentry.userip",
  "sentry.useroption",
  "sentry.userpermission",
  "sentry.userrole",
  "sentry.userroleuser",
];

/** Excluded tables relo writes itself while importing. */
const INTERNALS = [
  "sentry.controlimportchunk",
  "sentry.controlimportchunkreplica",
  "sentry.lostpasswordhash",
  "sentry.organizationslugreservation",
  "sentry.regionimportchunk",
];

/** Non-Excluded models of detailed.json relo does not define yet. */
const NOT_YET_DEFINED = [
  "sentry.alertrule",
  "sentry.alertruleactivationcondition",
  "sentry.alertruleactivity",
  "sentry.alertruleprojects",
  "sentry.alertruletrigger",
  "sentry.alertruletriggeraction",
  "sentry.apiauthorization",
  "sentry.apigrant",
  "sentry.apikey",
  "sentry.authidentity",
  "sentry.authprovider",
  "sentry.counter",
  "sentry.customdynamicsamplingrule",
  "sentry.customdynamicsamplingruleproject",
  "sentry.dashboard",
  "sentry.dashboardfavoriteuser",
  "sentry.dashboardpermissions",
  "sentry.dashboardpermissionsteam",
  "sentry.dashboardtombstone",
  "sentry.dashboardwidget",
  "sentry.dashboardwidgetquery",
  "sentry.dashboardwidgetqueryondemand",
  "sentry.datasecrecywaiver",
  "sentry.groupsearchview",
  "sentry.incident",
  "sentry.incidentactivity",
  "sentry.incidentsnapshot",
  "sentry.incidenttrigger",
  "sentry.monitor",
  "sentry.neglectedrule",
  "sentry.notificationaction",
  "sentry.notificationactionproject",
  "sentry.organizationaccessrequest",
  "sentry.organizationintegration",
  "sentry.pendingincidentsnapshot",
  "sentry.projectbookmark",
  "sentry.projectintegration",
  "sentry.projectownership",
  "sentry.projectredirect",
  "sentry.projecttemplate",
  "sentry.projecttemplateoption",
  "sentry.querysubscription",
  "sentry.recentsearch",
  "sentry.repository",
  "sentry.ruleactivity",
  "sentry.rulesnooze",
  "sentry.savedsearch",
  "sentry.sentryapp",
  "sentry.sentryappcomponent",
  "sentry.sentryappinstallation",
  "sentry.servicehook",
  "sentry.snubaquery",
  "sentry.snubaqueryeventtype",
  "sentry.timeseriessnapshot",
  "workflow_engine.alertruledetector",
  "workflow_engine.alertruletriggerdatacondition",
  "workflow_engine.alertruleworkflow",
  "workflow_engine.datacondition",
  "workflow_engine.dataconditiongroup",
  "workflow_engine.datasource",
  "workflow_engine.datasourcedetector",
  "workflow_engine.detector",
  "workflow_engine.detectorworkflow",
  "workflow_engine.workflow",
  "workflow_engine.workflowdataconditiongroup",
  "workflow_engine.workflowgroupstatus",
];

/** Unique sets compared as sets of sets. */
function normalizeUniques(uniques: string[][]): string[] {
  return uniques.map((u) => JSON.stringify([...u].sort())).sort();
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
  const names = registry.ordered.map((m) => m.name);

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
      expect(normalizeUniques(model.uniques)).toEqual(normalizeUniques(d.uniques));
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
      for (const set of model.uniques) for (const field of set) expect(fieldNames).toContain(field);
    });
  });

  it("defines the cohort and the internal tables, and nothing else yet", () => {
    expect(names.slice().sort()).toEqual([...COHORT, ...INTERNALS].sort());
    for (const name of COHORT) expect(detailed[name].relocation_scope).not.toBe("Excluded");
    for (const name of INTERNALS) expect(detailed[name].relocation_scope).toBe("Excluded");
  });

  it("lists the non-Excluded models of detailed.json not defined yet", () => {
    const missing = Object.values(detailed)
      .filter((d) => d.relocation_scope !== "Excluded" && !registry.has(d.model))
      .map((d) => d.model)
      .sort();
    expect(missing).toEqual(NOT_YET_DEFINED);
    const nonExcluded = Object.values(detailed).filter((d) => d.relocation_scope !== "Excluded").length;
    expect(nonExcluded).toBe(95);
    expect(missing.length + COHORT.length).toBe(nonExcluded);
  });
});

describe("import order", () => {
  it("dependencyOrder reproduces sorted.json from all of detailed.json", () => {
    expect(dependencyOrder(stubsFromDetailed())).toEqual(sorted);
  });

  it("registry.ordered agrees with sorted.json for every pair of models", () => {
    const names = registry.ordered.map((m) => m.name);
    expect(names.filter((n) => !sortedIndex.has(n))).toEqual([]);
    expect(disagreements(names)).toEqual([]);
    expect(names).toEqual([...names].sort((a, b) => sortedIndex.get(a)! - sortedIndex.get(b)!));
  });

  it("registry.relocatable() agrees with sorted.json and holds exactly the non-Excluded models", () => {
    const names = registry.relocatable().map((m) => m.name);
    expect(disagreements(names)).toEqual([]);
    expect(names.slice().sort()).toEqual([...COHORT].sort());
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
    expect([...referenced]).toEqual(["sentry.projecttemplate"]);
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
