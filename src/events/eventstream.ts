/**
 * The messages event save produces, in the shape Sentry's Snuba eventstream and outcomes use:
 * an insert is `[2, "insert", payload, state]` on topic `events` (errors) or `transactions`,
 * keyed by project id, with Sentry's Kafka headers; an outcome is Sentry's outcome JSON on
 * topic `outcomes`.
 */
import type { EventData } from "./normalize.js";
import { type NewMessage, Topic } from "./stream.js";

export interface GroupState {
  id: number;
  is_new: boolean;
  is_regression: boolean;
  is_new_group_environment: boolean;
}

export interface InsertArgs {
  data: EventData;
  /** `data` as JSON text, serialized once for nodestore and the stream. */
  dataJson: string;
  projectId: number;
  organizationId: number;
  /** The event's groups (none for transactions); flags come from the first. */
  groups: GroupState[];
  primaryHash: string | null;
  receivedTimestamp: number;
  skipConsume: boolean;
  message: string;
  datetime: string;
  retentionDays: number;
}

const flag = (b: boolean) => (b ? "1" : "0");

export function insertMessage(a: InsertArgs): NewMessage {
  const isTransaction = a.data.type === "transaction";
  const first = a.groups[0];
  const groupStates = isTransaction ? null : a.groups;
  const queue = isTransaction ? "post_process_transactions" : "post_process_errors";
  const state = {
    is_new: first?.is_new ?? false,
    is_regression: first?.is_regression ?? false,
    is_new_group_environment: first?.is_new_group_environment ?? false,
    queue,
    skip_consume: a.skipConsume,
    group_states: groupStates,
  };
  // Sentry's payload key order, with the event data spliced in as already-serialized JSON.
  const before = {
    group_id: first?.id ?? null,
    group_ids: a.groups.map((g) => g.id),
    event_id: a.data.event_id,
    organization_id: a.organizationId,
    project_id: a.projectId,
    message: a.message,
    platform: a.data.platform,
    datetime: a.datetime,
  };
  const after = {
    primary_hash: a.primaryHash,
    retention_days: a.retentionDays,
    occurrence_id: null,
    occurrence_data: {},
  };
  const payload = `${JSON.stringify(before).slice(0, -1)},"data":${a.dataJson},${JSON.stringify(after).slice(1)}`;
  const headers: Record<string, string> = {
    operation: "insert",
    version: "2",
    "Received-Timestamp": String(a.receivedTimestamp),
    queue,
    event_id: a.data.event_id,
    project_id: String(a.projectId),
    is_new: flag(state.is_new),
    is_new_group_environment: flag(state.is_new_group_environment),
    is_regression: flag(state.is_regression),
    skip_consume: flag(a.skipConsume),
  };
  if (first) headers.group_id = String(first.id);
  if (a.primaryHash) headers.primary_hash = a.primaryHash;
  if (groupStates) headers.group_states = JSON.stringify(groupStates);
  return {
    topic: isTransaction ? Topic.TRANSACTIONS : Topic.EVENTS,
    key: String(a.projectId),
    headers,
    value: `[2,"insert",${payload},${JSON.stringify(state)}]`,
  };
}

/** Sentry's Outcome and DataCategory values relo emits. */
export const Outcome = { ACCEPTED: 0, FILTERED: 1 } as const;
export const DataCategory = { DEFAULT: 0, ERROR: 1, TRANSACTION: 2 } as const;

/** Sentry's DataCategory.from_event_type. */
export function categoryOf(type: string): number {
  return type === "transaction" ? DataCategory.TRANSACTION : DataCategory.ERROR;
}

export interface OutcomeArgs {
  organizationId: number;
  projectId: number;
  keyId: number | null;
  outcome: number;
  reason: string | null;
  eventId: string;
  category: number;
  /** When the event was received (epoch seconds): Sentry stamps outcomes with the ingest start time. */
  timestamp: number;
}

export function outcomeMessage(o: OutcomeArgs): NewMessage {
  return {
    topic: Topic.OUTCOMES,
    key: null,
    headers: {},
    value: JSON.stringify({
      timestamp: new Date(o.timestamp * 1000).toISOString(),
      org_id: o.organizationId,
      project_id: o.projectId,
      key_id: o.keyId,
      outcome: o.outcome,
      reason: o.reason,
      event_id: o.eventId,
      category: o.category,
      quantity: 1,
    }),
  };
}
