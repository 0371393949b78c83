import { EVENT_TYPE_NAMES, fromJson, type HistoryEvent, type RuntimeStatus, toIso } from './protocol';
import type { DurableStore, InstanceQuery, InstanceRow } from './store';

export interface StatusOptions {
  showHistory?: boolean;
  showHistoryOutput?: boolean;
  showInput?: boolean;
}

/** The status shape of the Durable HTTP API (`GET instances/{id}`). */
export interface InstanceStatus {
  name: string;
  instanceId: string;
  runtimeStatus: RuntimeStatus;
  input: unknown;
  customStatus: unknown;
  output: unknown;
  createdTime: string;
  lastUpdatedTime: string;
  historyEvents?: Array<Record<string, unknown>>;
}

/** Instances as the Durable HTTP API shows them (`GET instances`, `GET instances/{id}`). */
export class StatusReader {
  constructor(private readonly store: DurableStore) {}

  get(instanceId: string, options: StatusOptions = {}): InstanceStatus | undefined {
    const instance = this.store.getInstance(instanceId);
    if (!instance) return undefined;
    const status = this.toStatus(instance, options.showInput !== false);
    if (options.showHistory) {
      status.historyEvents = this.store
        .history(instanceId)
        .map((e) => friendlyEvent(e, options.showHistoryOutput === true));
    }
    return status;
  }

  query(
    query: InstanceQuery,
    options: { top?: number; skip?: number; showInput?: boolean } = {},
  ): InstanceStatus[] {
    return this.store
      .queryInstances(query, options.top ?? -1, options.skip ?? 0)
      .map((i) => this.toStatus(i, options.showInput === true));
  }

  private toStatus(instance: InstanceRow, showInput: boolean): InstanceStatus {
    return {
      name: instance.name,
      instanceId: instance.instanceId,
      runtimeStatus: instance.status,
      input: showInput ? fromJson(instance.input) : null,
      customStatus: fromJson(instance.customStatus),
      output: fromJson(instance.output),
      createdTime: toIso(instance.createdAt),
      lastUpdatedTime: toIso(instance.updatedAt),
    };
  }
}

/** History in the management API's readable form: event type names, results only on request. */
function friendlyEvent(e: HistoryEvent, showOutput: boolean): Record<string, unknown> {
  const { EventType: type, IsPlayed: _played, ...rest } = e;
  const out: Record<string, unknown> = { EventType: EVENT_TYPE_NAMES[type] ?? String(type), ...rest };
  if (!showOutput) delete out.Result;
  return out;
}
