/**
 * Whose outbox entries this device shows and sends: the signed-in user. A phone or tablet is often shared by a
 * shop's people, and an entry is sent with the session of whoever drains it, so every entry remembers who made it
 * and only that person's session ever lists or sends it. Entries of someone who signed out stay on the device (a
 * photo or a text is never lost) and go when that person signs in again.
 *
 * No dependencies on purpose: the session wiring (eager) sets the owner; the outboxes (lazy chunks) read it.
 */
type Listener = (userId: string | null) => void;

let owner: string | null = null;
const listeners = new Set<Listener>();

export function outboxOwner(): string | null {
  return owner;
}

export function setOutboxOwner(userId: string | null): void {
  if (userId === owner) return;
  owner = userId;
  for (const l of listeners) l(userId);
}

/** Called after every change of the signed-in user; returns an unsubscribe. */
export function onOutboxOwnerChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
