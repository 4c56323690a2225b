/**
 * What waits on this device, app-wide: each outbox (capture photos, text sends) publishes its counts here so the
 * shell can show them on every screen without importing any feature (lib never imports features).
 */
import { createStore } from 'zustand/vanilla';
import { useStore } from 'zustand';

export interface OutboxCounts {
  /** Waiting for the connection, a retry, or in flight. */
  pending: number;
  /** Needs someone: a refusal that retrying will not fix. */
  failed: number;
}

export type OutboxKind = 'captures' | 'sends';

export interface OutboxStatusState {
  captures: OutboxCounts;
  sends: OutboxCounts;
}

const EMPTY: OutboxCounts = { pending: 0, failed: 0 };

export const outboxStatus = createStore<OutboxStatusState>()(() => ({ captures: EMPTY, sends: EMPTY }));

export function publishOutboxCounts(kind: OutboxKind, counts: OutboxCounts): void {
  const cur = outboxStatus.getState()[kind];
  if (cur.pending !== counts.pending || cur.failed !== counts.failed) outboxStatus.setState({ [kind]: { ...counts } });
}

/** Counts entries by whether they are failed for good (permanent) or still waiting. */
export function countEntries(entries: ReadonlyArray<{ permanent?: boolean; state?: string }>): OutboxCounts {
  let failed = 0;
  for (const e of entries) if (e.permanent || e.state === 'failed') failed++;
  return { pending: entries.length - failed, failed };
}

export function useOutboxStatus<T>(selector: (s: OutboxStatusState) => T): T {
  return useStore(outboxStatus, selector);
}

/** "2 texts and 1 photo waiting" / "1 text could not be sent" — for the shell's status line; null when empty. */
export function describeOutbox(s: OutboxStatusState): { waiting: string | null; failed: string | null } | null {
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  const join = (parts: string[]) => parts.join(' and ');
  const waiting: string[] = [];
  const failed: string[] = [];
  if (s.sends.pending) waiting.push(plural(s.sends.pending, 'text', 'texts'));
  if (s.captures.pending) waiting.push(plural(s.captures.pending, 'photo', 'photos'));
  if (s.sends.failed) failed.push(plural(s.sends.failed, 'text', 'texts'));
  if (s.captures.failed) failed.push(plural(s.captures.failed, 'photo', 'photos'));
  if (!waiting.length && !failed.length) return null;
  return {
    waiting: waiting.length ? `${join(waiting)} waiting to send` : null,
    failed: failed.length ? `${join(failed)} could not be sent` : null,
  };
}
