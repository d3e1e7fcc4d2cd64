/**
 * The model registry: every model relo knows, looked up by name, and the dependency order that
 * import, export and global clearing follow. The order is computed here, from the definitions,
 * with Sentry's algorithm, so that exports list models in the order Sentry does.
 */
import { alertModels } from "./alerts.js";
import { appModels } from "./apps.js";
import { authModels } from "./auth.js";
import { configModels } from "./config.js";
import { dashboardModels } from "./dashboards.js";
import { eventModels } from "./events.js";
import { incidentModels } from "./incidents.js";
import { integrationModels } from "./integrations.js";
import { internalModels } from "./internal.js";
import { monitorModels } from "./monitors.js";
import { notificationModels } from "./notifications.js";
import { organizationModels } from "./organizations.js";
import { projectModels } from "./projects.js";
import { searchModels } from "./searches.js";
import { sentryAppModels } from "./sentryapps.js";
import type { ModelDef, RelocationScope, Scope } from "./types.js";
import { userModels } from "./users.js";
import { workflowModels } from "./workflows.js";

/** Which relocation scopes each import/export scope admits. */
export const ACCEPTED_SCOPES: Record<Scope, ReadonlySet<RelocationScope>> = {
  User: new Set(["User"]),
  Organization: new Set(["User", "Organization"]),
  Config: new Set(["User", "Config"]),
  Global: new Set(["User", "Organization", "Config", "Global"]),
};

/**
 * Models deleted from Sentry whose rows older exports still carry; they are removed on import
 * (`sentry.actor` after legacy.ts has read it). Sentry lists only `sentry.actor` and skips the
 * others as unknown models; they were deleted during 2024 without a successor.
 */
export const DELETED_MODELS: ReadonlySet<string> = new Set([
  "sentry.actor",
  "sentry.alertruleexcludedprojects",
  "sentry.alertruletriggerexclusion",
  "sentry.incidentsubscription",
]);

/** Fields deleted from Sentry models that older exports still carry; they are dropped on import. */
export const DELETED_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  "sentry.team": new Set(["actor", "org_role"]),
  "sentry.rule": new Set(["owner"]),
  "sentry.alertrule": new Set(["owner"]),
  "sentry.grouphistory": new Set(["actor"]),
};

export function possibleScopes(model: ModelDef): RelocationScope[] {
  return Array.isArray(model.scope) ? model.scope : [model.scope];
}

/** Models this one must come after: foreign key targets (not itself) and declared dependencies. */
export function dependenciesOf(model: ModelDef): string[] {
  const deps = new Set<string>();
  for (const field of model.fields) {
    if (field.fk && field.fk.model !== model.name) deps.add(field.fk.model);
  }
  for (const d of model.relocationDependencies ?? []) deps.add(d);
  return [...deps].sort();
}

/**
 * Sentry's topological sort: the first pass walks names in ascending order, every later pass the
 * deferred names in descending order; a model is placed once all its dependencies that exist are
 * placed (earlier in the same pass counts).
 *
 * The outcome is a function of each model's pass, and a model's pass depends only on the passes of
 * its dependencies, so the relative order of two models equals Sentry's whenever every pass does.
 * A model relo does not define but some definition references (e.g. `sentry.projecttemplate`,
 * the target of `project.template`) still takes part, as a model without dependencies, and is left
 * out of the result: dropping it would let its dependants be placed a pass too early (Sentry places
 * `sentry.project` in pass 2, after `sentry.projecttemplate`). This is exact as long as every such
 * referenced model is placed in pass 1 by Sentry too, which test/registry.test.ts checks.
 */
export function dependencyOrder(models: ModelDef[]): string[] {
  const known = new Set(models.map((m) => m.name));
  const deps = new Map(models.map((m) => [m.name, dependenciesOf(m)]));
  for (const targets of [...deps.values()]) {
    for (const d of targets) if (!deps.has(d)) deps.set(d, []);
  }
  const placed = new Set<string>();
  const order: string[] = [];
  let work = [...deps.keys()].sort();
  while (work.length > 0) {
    const deferred: string[] = [];
    for (const name of work) {
      if (deps.get(name)!.every((d) => placed.has(d))) {
        placed.add(name);
        order.push(name);
      } else {
        deferred.push(name);
      }
    }
    if (deferred.length === work.length) {
      // Sentry lists the names in ascending order, whichever pass failed.
      throw new Error(
        `Can't resolve dependencies for ${[...deferred].sort().join(", ")} in serialized app list.`,
      );
    }
    work = deferred.sort().reverse();
  }
  return order.filter((n) => known.has(n));
}

export class Registry {
  private readonly byName: Map<string, ModelDef>;
  /** Every model, in dependency order. */
  readonly ordered: ModelDef[];

  constructor(models: ModelDef[]) {
    this.byName = new Map(models.map((m) => [m.name, m]));
    if (this.byName.size !== models.length) throw new Error("a model is defined twice");
    this.ordered = dependencyOrder(models).map((n) => this.byName.get(n)!);
  }

  get(name: string): ModelDef | undefined {
    return this.byName.get(name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /** Models that can be imported or exported in some scope, in dependency order. */
  relocatable(): ModelDef[] {
    return this.ordered.filter((m) => !possibleScopes(m).includes("Excluded"));
  }

  /** Models a scope can carry, in dependency order. */
  inScope(scope: Scope): ModelDef[] {
    const accepted = ACCEPTED_SCOPES[scope];
    return this.relocatable().filter((m) => possibleScopes(m).some((s) => accepted.has(s)));
  }
}

export const registry = new Registry([
  ...userModels,
  ...configModels,
  ...appModels,
  ...integrationModels,
  ...organizationModels,
  ...projectModels,
  ...alertModels,
  ...incidentModels,
  ...dashboardModels,
  ...monitorModels,
  ...searchModels,
  ...notificationModels,
  ...authModels,
  ...sentryAppModels,
  ...workflowModels,
  ...internalModels,
  ...eventModels,
]);
