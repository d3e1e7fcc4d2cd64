/**
 * Exports from older Sentry releases (hand-made in the shape of Sentry 23.9.1's export, the
 * oldest its own release tests import): deleted models and fields, owners that were actors,
 * hybrid-cloud renames, and columns that did not exist yet.
 */
import { expect, it } from "vitest";
import type { Store } from "../src/store/types.js";
import { describeEachDb, useFreshStore } from "./helpers/db.js";
import { user } from "./helpers/exhaustive.js";
import { count, importFile, rows, writeExport } from "./helpers/import.js";

const T = "2023-10-16T16:31:20.000Z";
const ORG = 4552809002827776;
const TEAM = 4552809002827777;
const PROJECT = 4552809002827778;

const actor = (pk: number, team: number | null, userId: number | null) => ({
  model: "sentry.actor",
  pk,
  fields: { team, type: team === null ? 1 : 0, user_id: userId },
});

const rule = (pk: number, owner: number | null) => ({
  model: "sentry.rule",
  pk,
  fields: {
    data: '{"action_match":"all","actions":[]}',
    date_added: T,
    environment_id: null,
    label: `rule ${pk}`,
    owner,
    project: PROJECT,
    source: 0,
    status: 0,
  },
});

/** A 23.9.1-shaped export: actors before the team they stand for, owners as actor ids. */
function oldExport() {
  return [
    {
      model: "sentry.organization",
      pk: ORG,
      fields: {
        date_added: T,
        default_role: "member",
        flags: "1",
        is_test: false,
        name: "test-org",
        slug: "test-org",
        status: 0,
      },
    },
    user(1, "owner"),
    user(2, "member"),
    {
      model: "sentry.project",
      pk: PROJECT,
      fields: {
        date_added: T,
        first_event: null,
        flags: "10",
        forced_color: null,
        name: "project-test-org",
        organization: ORG,
        platform: null,
        public: false,
        slug: "project-test-org",
        status: 0,
      },
    },
    {
      model: "sentry.projectkey",
      pk: 1,
      fields: {
        data: {},
        date_added: T,
        label: "Default",
        project: PROJECT,
        public_key: "d6b840ad618210d0f9ccc4dc9dec457c",
        rate_limit_count: null,
        rate_limit_window: null,
        roles: "1",
        secret_key: "54c6be298ade8cca43f588bfe9725ea6",
        status: 0,
      },
    },
    {
      model: "sentry.repository",
      pk: 1,
      fields: {
        config: {},
        date_added: T,
        external_id: null,
        integration_id: null,
        name: "getsentry/getsentry",
        organization_id: ORG,
        provider: "integrations:github",
        status: 0,
        url: "https://github.com/getsentry/getsentry",
      },
    },
    {
      model: "sentry.monitor",
      pk: 1,
      fields: {
        config: { schedule: "* * * * *", schedule_type: 1 },
        date_added: T,
        guid: "c4ddd6c1-02db-4dde-be53-c885149b93dc",
        name: "",
        organization_id: ORG,
        project_id: PROJECT,
        slug: "ac59ce7d6129",
        status: 0,
        type: 3,
      },
    },
    // Two consecutive actors (Sentry's shim skips the second of two; relo drops both), then one
    // that stands for nobody.
    actor(1, TEAM, null),
    actor(2, null, 2),
    actor(3, null, null),
    {
      model: "sentry.team",
      pk: TEAM,
      fields: {
        actor: 1,
        date_added: T,
        idp_provisioned: false,
        name: "team",
        org_role: null,
        organization: ORG,
        slug: "team",
        status: 0,
      },
    },
    {
      model: "sentry.snubaquery",
      pk: 1,
      fields: {
        aggregate: "count()",
        dataset: "events",
        date_added: T,
        environment: null,
        query: "level:error",
        resolution: 60,
        time_window: 600,
        type: 0,
      },
    },
    {
      model: "sentry.querysubscription",
      pk: 1,
      fields: {
        date_added: T,
        date_updated: T,
        project: PROJECT,
        snuba_query: 1,
        status: 1,
        subscription_id: null,
        type: "incidents",
      },
    },
    rule(1, 1),
    rule(2, 2),
    rule(3, 3),
    rule(4, 99),
    rule(5, null),
    {
      model: "sentry.alertrule",
      pk: 1,
      fields: {
        comparison_delta: null,
        date_added: T,
        date_modified: T,
        include_all_projects: true,
        name: "Singular Pangolin",
        organization: ORG,
        owner: 2,
        resolve_threshold: null,
        snuba_query: 1,
        status: 0,
        threshold_period: 1,
        threshold_type: 0,
      },
    },
    {
      model: "sentry.alertruletrigger",
      pk: 1,
      fields: {
        alert_rule: 1,
        alert_threshold: 100.0,
        date_added: T,
        label: "Driving Stud",
        resolve_threshold: null,
        threshold_type: null,
      },
    },
    {
      model: "sentry.alertruletriggerexclusion",
      pk: 1,
      fields: { alert_rule_trigger: 1, date_added: T, query_subscription: 1 },
    },
    {
      model: "sentry.alertruletriggeraction",
      pk: 1,
      fields: {
        alert_rule_trigger: 1,
        date_added: T,
        integration_id: null,
        sentry_app_config: null,
        sentry_app_id: null,
        target_display: null,
        target_identifier: "3",
        target_type: 1,
        type: 0,
      },
    },
    {
      model: "sentry.alertruleexcludedprojects",
      pk: 1,
      fields: { alert_rule: 1, date_added: T, project: PROJECT },
    },
    {
      model: "sentry.incident",
      pk: 1,
      fields: {
        alert_rule: 1,
        date_added: T,
        date_closed: null,
        date_detected: T,
        date_started: T,
        detection_uuid: null,
        identifier: 1,
        organization: ORG,
        status: 1,
        status_method: 3,
        title: "Singular Seal",
        type: 2,
      },
    },
    { model: "sentry.incidentsubscription", pk: 1, fields: { date_added: T, incident: 1, user_id: 1 } },
    {
      model: "sentry.apitoken",
      pk: 1,
      fields: {
        application: null,
        date_added: T,
        expires_at: null,
        refresh_token: null,
        scope_list: "[]",
        scopes: "0",
        token: "13dacf88e5a34aa4b23467378a42f695",
        user: 1,
      },
    },
  ];
}

describeEachDb("exports from older Sentry releases", (kind) => {
  let store: Store;
  useFreshStore(kind, (s) => {
    store = s;
  });

  const byLabel = async () => new Map((await rows(store, "sentry_rule")).map((r) => [r.label, r]));
  const userId = async (username: string) =>
    Number((await rows(store, "auth_user")).find((u) => u.username === username)!.id);

  it("maps an issue alert's owner actor to its team or user owner", async () => {
    await importFile(store, writeExport(oldExport()), { scope: "Global" });
    const rules = await byLabel();
    const team = Number((await rows(store, "sentry_team"))[0].id);
    expect(Number(rules.get("rule 1")!.owner_team_id)).toBe(team);
    expect(rules.get("rule 1")!.owner_user_id).toBeNull();
    expect(Number(rules.get("rule 2")!.owner_user_id)).toBe(await userId("member"));
    expect(rules.get("rule 2")!.owner_team_id).toBeNull();
    // An actor that stands for nobody, one not in the export, and no owner at all: no owner.
    for (const label of ["rule 3", "rule 4", "rule 5"]) {
      expect(rules.get(label)!.owner_user_id, label).toBeNull();
      expect(rules.get(label)!.owner_team_id, label).toBeNull();
    }
  });

  it("maps a metric alert's owner actor to its user, and drops include_all_projects", async () => {
    await importFile(store, writeExport(oldExport()), { scope: "Organization" });
    const [alertRule] = await rows(store, "sentry_alertrule");
    expect(Number(alertRule.user_id)).toBe(await userId("member"));
    expect(alertRule.team_id).toBeNull();
    expect(alertRule).not.toHaveProperty("include_all_projects");
  });

  it("drops the deleted models (actors, trigger exclusions, excluded projects, incident subscriptions)", async () => {
    const { stats } = await importFile(store, writeExport(oldExport()), { scope: "Global" });
    for (const model of [
      "sentry.actor",
      "sentry.alertruletriggerexclusion",
      "sentry.alertruleexcludedprojects",
      "sentry.incidentsubscription",
    ]) {
      expect(stats.of(model).read, model).toBe(0);
    }
    expect(await count(store, "sentry_team")).toBe(1);
    expect(await count(store, "sentry_rule")).toBe(5);
    expect(await count(store, "sentry_alertruletriggeraction")).toBe(1);
    expect(await count(store, "sentry_incident")).toBe(1);
  });

  it("fills columns that did not exist yet with Sentry's defaults", async () => {
    await importFile(store, writeExport(oldExport()), { scope: "Global" });
    const [key] = await rows(store, "sentry_projectkey");
    expect(key.use_case).toBe("user");
    const [monitor] = await rows(store, "sentry_monitor");
    expect([Boolean(monitor.is_muted), monitor.owner_user_id, monitor.owner_team_id]).toEqual([
      false,
      null,
      null,
    ]);
    const [action] = await rows(store, "sentry_alertruletriggeraction");
    expect(action.status).toBe(0);
    const [incident] = await rows(store, "sentry_incident");
    expect([incident.activation_id, incident.subscription_id]).toEqual([null, null]);
    const [repo] = await rows(store, "sentry_repository");
    expect(JSON.parse(repo.languages)).toBe("[]");
    const [token] = await rows(store, "sentry_apitoken");
    expect([token.hashed_token, token.token_type, token.name]).toEqual([null, null, null]);
    const [alertRule] = await rows(store, "sentry_alertrule");
    expect([alertRule.detection_type, alertRule.monitor_type]).toEqual(["static", 0]);
  });

  it("turns a dashboard's creator-only edit flag into its opposite, editable by everyone", async () => {
    const dashboard = (pk: number) => ({
      model: "sentry.dashboard",
      pk,
      fields: { title: `d${pk}`, created_by_id: 1, organization: ORG, date_added: T },
    });
    const permissions = (pk: number, creatorOnly: boolean) => ({
      model: "sentry.dashboardpermissions",
      pk,
      fields: { is_creator_only_editable: creatorOnly, dashboard: pk },
    });
    const entries = [
      ...oldExport().slice(0, 4),
      dashboard(1),
      dashboard(2),
      permissions(1, true),
      permissions(2, false),
    ];
    await importFile(store, writeExport(entries), { scope: "Organization" });
    const flags = (await rows(store, "sentry_dashboardpermissions")).map((p) =>
      Boolean(p.is_editable_by_everyone),
    );
    expect(flags).toEqual([false, true]);
  });

  it("renames the user references that became hybrid-cloud ids", async () => {
    const member = {
      model: "sentry.organizationmember",
      pk: 1,
      fields: {
        organization: ORG,
        user: 2,
        inviter: 1,
        email: null,
        role: "member",
        flags: "0",
        token: null,
        date_added: T,
      },
    };
    const bookmark = {
      model: "sentry.projectbookmark",
      pk: 1,
      fields: { project: PROJECT, user: 2, date_added: T },
    };
    const search = {
      model: "sentry.savedsearch",
      pk: 1,
      fields: {
        organization: ORG,
        name: "mine",
        query: "is:unresolved",
        owner: 2,
        visibility: "owner",
        date_added: T,
      },
    };
    const dashboard = {
      model: "sentry.dashboard",
      pk: 1,
      fields: { title: "d", created_by: 1, organization: ORG, date_added: T },
    };
    const entries = oldExport().slice(0, 4);
    await importFile(store, writeExport([...entries, member, bookmark, search, dashboard]), {
      scope: "Organization",
    });
    const [orgMember] = await rows(store, "sentry_organizationmember");
    expect(Number(orgMember.user_id)).toBe(await userId("member"));
    expect(Number(orgMember.inviter_id)).toBe(await userId("owner"));
    expect(Number((await rows(store, "sentry_projectbookmark"))[0].user_id)).toBe(await userId("member"));
    expect(Number((await rows(store, "sentry_savedsearch"))[0].owner_id)).toBe(await userId("member"));
    expect(Number((await rows(store, "sentry_dashboard"))[0].created_by_id)).toBe(await userId("owner"));
  });
});
