import { useEffect } from 'react';
import { navigate, useLocation } from '../lib/router.ts';
import { Alert, Button, Loading, Page } from '../lib/ui/index.ts';
import { configProblems } from '../lib/env.ts';
import { useAuth } from '../features/auth/store.ts';
import { tenancyStore, useTenancy } from '../features/tenancy/store.ts';
import { decide } from './guard.ts';
import { resolveRoute } from './routes.tsx';
import { AppLayout, BareLayout } from './Layout.tsx';
import { ScreenBoundary } from './ScreenBoundary.tsx';

const problems = configProblems();

export function App() {
  if (problems) return <ConfigProblem problems={problems} />;
  return <Router />;
}

function Router() {
  const { pathname, search } = useLocation();
  const auth = useAuth((s) => s.status);
  const tenancy = useTenancy((s) => s.status);
  const tenantCount = useTenancy((s) => s.tenants.length);
  const activeTenantId = useTenancy((s) => s.activeTenantId);
  const tenancyError = useTenancy((s) => s.error);
  const { route, params } = resolveRoute(pathname);
  const decision = decide({ access: route.access, auth, tenancy, tenantCount, activeTenantId, here: pathname + search });

  useEffect(() => {
    if (decision.kind === 'redirect') navigate(decision.to, { replace: true });
  }, [decision.kind, decision.kind === 'redirect' ? decision.to : '']);

  const Shell = route.chrome === 'app' && decision.kind === 'render' ? AppLayout : BareLayout;
  let content;
  if (decision.kind === 'render') content = <ScreenBoundary resetKey={pathname}>{route.render(params)}</ScreenBoundary>;
  else if (decision.kind === 'tenancy_error')
    content = (
      <Page title="Couldn't load your shops" narrow>
        <Alert>{tenancyError?.message ?? 'Something went wrong.'}</Alert>
        <Button onClick={() => void tenancyStore.getState().refresh()}>Try again</Button>
      </Page>
    );
  else content = <Loading label={decision.kind === 'loading' ? decision.label : 'Redirecting…'} />;
  return <Shell>{content}</Shell>;
}

function ConfigProblem({ problems }: { problems: string[] }) {
  return (
    <BareLayout>
      <Page title="Not configured" heading="ServicePro isn't configured" narrow>
        <Alert>This build of the app doesn't know which ServicePro server to use.</Alert>
        <ul>
          {problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
        <p>
          Set <code>VITE_SUPABASE_URL</code> and <code>VITE_SUPABASE_ANON_KEY</code> when starting or building the app
          (see <code>web/.env.example</code>).
        </p>
      </Page>
    </BareLayout>
  );
}
