/**
 * Sentry's default comparator table, rebuilt from the registry: the explicit per-model entries,
 * then, for every defined model, a DatetimeEquality comparator over the remaining datetime
 * fields (only for models that have an entry, as in Sentry), an EmailObfuscating comparator over
 * email fields, and a ForeignKey comparator over every foreign key.
 */
import { possibleScopes, type Registry } from "../../models/registry.js";
import type { ModelDef } from "../../models/types.js";
import {
  AutoSuffixComparator,
  type Comparator,
  DatetimeEqualityComparator,
  DateUpdatedComparator,
  EmailObfuscatingComparator,
  ForeignKeyComparator,
  HashObfuscatingComparator,
  IgnoredComparator,
  SecretHexComparator,
  SubscriptionIDComparator,
  UnorderedListComparator,
  UserPasswordObfuscatingComparator,
  UUID4Comparator,
} from "./comparators.js";

export type ComparatorTable = Map<string, Comparator[]>;

const dateUpdatedBoth = () => [new DateUpdatedComparator("date_updated", "date_added")];

const WORKFLOW_MODELS = [
  "action",
  "actiongroupstatus",
  "datacondition",
  "dataconditiongroup",
  "dataconditiongroupaction",
  "datasource",
  "datasourcedetector",
  "detector",
  "detectorstate",
  "detectorworkflow",
  "workflow",
  "workflowdataconditiongroup",
  "alertruledetector",
  "alertruleworkflow",
].map((m) => `workflow_engine.${m}`);

function explicitEntries(): [string, Comparator[]][] {
  return [
    [
      "sentry.apitoken",
      [
        new HashObfuscatingComparator("refresh_token", "token"),
        new IgnoredComparator("hashed_token", "hashed_refresh_token", "token_last_characters"),
        new UnorderedListComparator("scope_list"),
      ],
    ],
    ["sentry.apiapplication", [new HashObfuscatingComparator("client_id", "client_secret")]],
    ["sentry.authidentity", [new HashObfuscatingComparator("ident", "token")]],
    ["sentry.alertrule", [new DateUpdatedComparator("date_modified")]],
    ["sentry.dashboardfavoriteuser", [new DateUpdatedComparator("date_added", "date_updated")]],
    ["sentry.groupsearchview", [new DateUpdatedComparator("date_updated")]],
    [
      "sentry.groupsearchviewlastvisited",
      [new DateUpdatedComparator("last_visited", "date_added", "date_updated")],
    ],
    ["sentry.groupsearchviewstarred", [new DateUpdatedComparator("date_updated", "date_added")]],
    [
      "sentry.groupsearchviewproject",
      [new DateUpdatedComparator("date_updated"), new DateUpdatedComparator("date_added")],
    ],
    ["sentry.incident", [new UUID4Comparator("detection_uuid")]],
    ["sentry.incidentactivity", [new UUID4Comparator("notification_uuid")]],
    ["sentry.incidenttrigger", [new DateUpdatedComparator("date_modified")]],
    ["sentry.integration", [new DateUpdatedComparator("date_updated")]],
    ["sentry.monitor", [new UUID4Comparator("guid")]],
    ["sentry.orgauthtoken", [new HashObfuscatingComparator("token_hashed", "token_last_characters")]],
    ["sentry.dashboardwidgetqueryondemand", [new DateUpdatedComparator("date_modified")]],
    ["sentry.dashboardwidgetquery", [new DateUpdatedComparator("date_modified")]],
    ["sentry.email", [new DateUpdatedComparator("date_added")]],
    ["sentry.organization", [new AutoSuffixComparator("slug")]],
    ["sentry.organizationintegration", [new DateUpdatedComparator("date_updated")]],
    ["sentry.organizationmember", [new HashObfuscatingComparator("token")]],
    [
      "sentry.projectkey",
      [
        new HashObfuscatingComparator("public_key", "secret_key"),
        new SecretHexComparator(16, "public_key", "secret_key"),
      ],
    ],
    ["sentry.projecttemplate", [new DateUpdatedComparator("date_updated")]],
    [
      "sentry.querysubscription",
      [new DateUpdatedComparator("date_updated"), new SubscriptionIDComparator("subscription_id")],
    ],
    ["sentry.relay", [new HashObfuscatingComparator("relay_id", "public_key")]],
    ["sentry.relayusage", [new HashObfuscatingComparator("relay_id", "public_key")]],
    ["sentry.rollbackorganization", [new DateUpdatedComparator("date_updated")]],
    [
      "sentry.rollbackuser",
      [new UUID4Comparator("uuid", "share_uuid"), new DateUpdatedComparator("date_updated")],
    ],
    [
      "sentry.sentryapp",
      [new DateUpdatedComparator("date_updated"), new EmailObfuscatingComparator("creator_label")],
    ],
    ["sentry.sentryappinstallation", [new DateUpdatedComparator("date_updated")]],
    ["sentry.servicehook", [new HashObfuscatingComparator("secret")]],
    ["sentry.team", [new IgnoredComparator("org_role")]],
    [
      "sentry.user",
      [
        new AutoSuffixComparator("username"),
        new DateUpdatedComparator("last_active"),
        new IgnoredComparator("last_password_change", "is_unclaimed", "is_password_expired"),
        new UserPasswordObfuscatingComparator(),
      ],
    ],
    [
      "sentry.useremail",
      [new DateUpdatedComparator("date_hash_added"), new IgnoredComparator("validation_hash", "is_verified")],
    ],
    [
      "sentry.userip",
      [
        new DateUpdatedComparator("first_seen", "last_seen"),
        new IgnoredComparator("country_code", "region_code"),
      ],
    ],
    ["sentry.userrole", [new DateUpdatedComparator("date_updated")]],
    ["sentry.userroleuser", [new DateUpdatedComparator("date_updated")]],
    ...WORKFLOW_MODELS.map((m): [string, Comparator[]] => [m, dateUpdatedBoth()]),
    ["tempest.tempestcredentials", dateUpdatedBoth()],
  ];
}

function isEmailField(model: ModelDef, name: string): boolean {
  return (
    name === "email" &&
    model.fields.some((f) => f.name === name && (f.type === "string" || f.type === "text"))
  );
}

/** The comparators for every model the registry defines, in Sentry's order per model. */
export function defaultComparators(registry: Registry): ComparatorTable {
  const table: ComparatorTable = new Map(explicitEntries());
  const exportable = registry.ordered.filter((m) => !possibleScopes(m).includes("Excluded"));
  for (const model of exportable) {
    const entry = table.get(model.name);
    if (!entry || !model.name.startsWith("sentry.")) continue;
    const covered = new Set(
      entry
        .filter((c) => c.kind === "DateUpdatedComparator" || c.kind === "IgnoredComparator")
        .flatMap((c) => [...c.fields]),
    );
    const datetimes = model.fields
      .filter((f) => f.type === "datetime" && !covered.has(f.name))
      .map((f) => f.name);
    if (datetimes.length > 0)
      extend(entry, "DatetimeEqualityComparator", datetimes, () => new DatetimeEqualityComparator());
  }
  for (const model of exportable) {
    if (!model.name.startsWith("sentry.")) continue;
    const emails = model.fields.filter((f) => isEmailField(model, f.name)).map((f) => f.name);
    if (emails.length === 0) continue;
    const entry = table.get(model.name) ?? [];
    table.set(model.name, entry);
    extend(entry, "EmailObfuscatingComparator", emails, () => new EmailObfuscatingComparator());
  }
  for (const model of registry.ordered) {
    const targets = new Map<string, string>();
    const optional = new Set<string>();
    for (const f of model.fields) {
      if (!f.fk || f.fk.model === model.name) continue;
      targets.set(f.name, f.fk.model);
      if (f.clearIfUnmapped) optional.add(f.name);
    }
    const entry = table.get(model.name) ?? [];
    table.set(model.name, entry);
    entry.push(new ForeignKeyComparator(targets, optional));
  }
  return table;
}

function extend(entry: Comparator[], kind: string, fields: string[], make: () => Comparator): void {
  let c = entry.find((x) => x.kind === kind);
  if (!c) {
    c = make();
    entry.push(c);
  }
  for (const f of fields) c.fields.add(f);
}
