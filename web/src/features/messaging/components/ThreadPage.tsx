import { Page } from '../../../lib/ui/index.ts';
import { useStore } from 'zustand';
import { tenancyStore } from '../../tenancy/store.ts';
import { Thread } from './Thread.tsx';

/** /customers/:id/thread — the thread on its own page (the customers page may embed <Thread> instead). */
export function ThreadPage({ customerId }: { customerId: string }) {
  const tenantId = useStore(tenancyStore, (s) => s.activeTenantId);
  return (
    <Page title="Texts">
      {tenantId ? <Thread tenantId={tenantId} customerId={customerId} /> : null}
    </Page>
  );
}
