import { useEffect, useState, type FormEvent } from 'react';
import { Alert, Button, ButtonLink, Loading, Page, TextField } from '../../../lib/ui/index.ts';
import { Link, navigate } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { customersApi } from '../api.ts';
import { validateCustomer, type Customer, type CustomerDraft } from '../model.ts';
import '../../capture/capture.css';

/** /customers — search by name or phone, open one, add one, import a CSV. */
export function CustomersPage() {
  const tenant = useTenancy(selectActiveTenant);
  const tenantId = tenant?.id ?? null;
  const [search, setSearch] = useState('');
  const [archived, setArchived] = useState(false);
  const [items, setItems] = useState<Customer[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!tenantId) return;
    let cancelled = false;
    const t = setTimeout(() => {
      customersApi.list(tenantId, { search, archived }).then(
        (r) => { if (!cancelled) { setItems(r); setError(null); } },
        (e) => { if (!cancelled) setError(errorMessage(e)); },
      );
    }, 250);
    return () => { cancelled = true; clearTimeout(t); };
  }, [tenantId, search, archived]);

  if (!tenant) return null;
  return (
    <Page
      title="Customers"
      actions={
        <span className="row">
          <ButtonLink to="/customers/new">Add customer</ButtonLink>
          <ButtonLink to="/customers/import" variant="secondary">Import CSV</ButtonLink>
        </span>
      }
    >
      <TextField label="Search by name or phone" type="search" value={search} onChange={(e) => setSearch(e.target.value)} autoComplete="off" />
      <label className="check">
        <input type="checkbox" checked={archived} onChange={(e) => setArchived(e.target.checked)} /> Show archived customers
      </label>
      {error ? <Alert>{error}</Alert> : null}
      {items === null && !error ? <Loading label="Loading customers…" /> : null}
      {items && items.length === 0 ? <p>{search ? 'No customer matches this search.' : archived ? 'No archived customers.' : 'No customers yet. Snap a repair order or import a CSV.'}</p> : null}
      {items && items.length ? (
        <ul className="customer-list" aria-label="Customers">
          {items.map((c) => (
            <li key={c.id}>
              <Link to={`/customers/${c.id}`}>
                <strong>{c.name}</strong>
                <span className="muted">
                  {c.phone}
                  {c.vehicles[0] ? ` · ${c.vehicles[0].label}` : ''}
                </span>
              </Link>
              {c.archived_at ? <span className="archived-badge">Archived</span> : null}
            </li>
          ))}
        </ul>
      ) : null}
    </Page>
  );
}

/** /customers/new */
export function NewCustomerPage() {
  const tenant = useTenancy(selectActiveTenant);
  const [draft, setDraft] = useState<CustomerDraft>({ name: '', phone: '', email: '', notes: '' });
  const [errors, setErrors] = useState<Partial<Record<keyof CustomerDraft, string>>>({});
  const [country, setCountry] = useState<string | null>('US');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const tenantId = tenant?.id ?? null;
  useEffect(() => {
    if (tenantId) customersApi.tenantCountry(tenantId).then((c) => setCountry(c ?? 'US'), () => {});
  }, [tenantId]);
  if (!tenant) return null;
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { input, errors: errs } = validateCustomer(draft, country);
    setErrors(errs);
    if (!input) return;
    setBusy(true);
    setError(null);
    try {
      const c = await customersApi.create(tenant.id, input);
      navigate(`/customers/${c.id}`, { replace: true });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Page title="Add customer" narrow>
      <CustomerFields draft={draft} errors={errors} onChange={setDraft} />
      <form className="form" onSubmit={submit} noValidate>
        {error ? <Alert>{error}</Alert> : null}
        <Button type="submit" busy={busy} busyLabel="Saving…">Save customer</Button>
      </form>
    </Page>
  );
}

export function CustomerFields({ draft, errors, onChange, disabled = false }: { draft: CustomerDraft; errors: Partial<Record<keyof CustomerDraft, string>>; onChange: (d: CustomerDraft) => void; disabled?: boolean }) {
  return (
    <div className="form">
      <TextField label="Name" value={draft.name} onChange={(e) => onChange({ ...draft, name: e.target.value })} error={errors.name ?? null} autoComplete="off" disabled={disabled} />
      <TextField label="Mobile phone" hint="Numbers without + use the shop’s country." inputMode="tel" value={draft.phone} onChange={(e) => onChange({ ...draft, phone: e.target.value })} error={errors.phone ?? null} autoComplete="off" disabled={disabled} />
      <TextField label="Email" optional type="email" value={draft.email} onChange={(e) => onChange({ ...draft, email: e.target.value })} error={errors.email ?? null} autoComplete="off" disabled={disabled} />
      <TextField label="Notes" optional value={draft.notes} onChange={(e) => onChange({ ...draft, notes: e.target.value })} error={errors.notes ?? null} autoComplete="off" disabled={disabled} />
    </div>
  );
}
