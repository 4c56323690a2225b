import { acquireStack, type StackLease } from '../../local/lib/stack-control.ts';

let lease: StackLease | undefined;

/** Vitest global setup for the `stack` project: reuse a healthy stack or start one for the run. */
export async function setup() {
  lease = await acquireStack();
  Object.assign(process.env, lease.env);
}

export async function teardown() {
  await lease?.release();
}
