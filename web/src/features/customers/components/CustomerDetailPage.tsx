import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { Alert, Button, Loading, Page, SelectField, TextField } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { Thread } from '../../messaging/components/Thread.tsx';
import { customersApi, type CustomerRepairOrder } from '../api.ts';
import { currentConsent, ledgerCsv, ledgerEvidence, SOURCE_LABELS, validateCustomer, type ConsentEvent, type Customer, type CustomerDraft } from '../model.ts';
import { CustomerFields } from './CustomersPage.tsx';
import '../../capture/capture.css';

function download(name: string, type: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** /customers/:id — details (edit, archive), vehicles, repair orders, consent ledger (export), the message thread. */
export function CustomerDetailPage({ id }: { id: string }) {
  const tenant = useTenancy(selectActiveTenant);
  const tenantId = tenant?.id ?? null;
  const [customer, setCustomer] = useState<Customer | null>(null);
  const [ros, setRos] = useState<CustomerRepairOrder[]>([]);
  const [ledger, setLedger] = useState<ConsentEvent[]>([]);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    if (!tenantId) return;
    try {
      const c = await customersApi.get(tenantId, id);
      setCustomer(c);
      const [r, l] = await Promise.all([customersApi.repairOrders(tenantId, id), customersApi.consentEvents(tenantId, id, c.phone)]);
      setRos(r);
      setLedger(l);
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [tenantId, id]);

  useEffect(() => { void load(); }, [load]);

  if (!tenant) return null;
  if (error && !customer) return <Page title="Customer" narrow><Alert>{error}</Alert><Link to="/customers">Back to customers</Link></Page>;
  if (!customer) return <Page title="Customer"><Loading label="Loading the customer…" /></Page>;

  const consent = currentConsent(ledger);
  return (
    <Page title={customer.name} heading={customer.name}>
      <p className="lead">
        {customer.phone}
        {customer.archived_at ? <span className="archived-badge"> · Archived {when(customer.archived_at)}</span> : null}
      </p>
      {error ? <Alert>{error}</Alert> : null}
      <div className="columns">
        <EditCustomer tenantId={tenant.id} customer={customer} onSaved={setCustomer} />
        <section className="card" aria-labelledby="vehicles-title">
          <h2 id="vehicles-title">Vehicles and devices</h2>
          {customer.vehicles.length ? (
            <ul className="ledger-list">
              {customer.vehicles.map((v, i) => <li key={`${v.label}-${v.vin ?? i}`}>{v.label}{v.vin ? <span className="muted"> · VIN {v.vin}</span> : null}</li>)}
            </ul>
          ) : <p>None recorded yet.</p>}
          <h2>Repair orders</h2>
          {ros.length ? (
            <ul className="link-list">
              {ros.map((r) => (
                <li key={r.id}>
                  <Link to={`/capture/review/${r.id}`}>
                    {r.ro_number ? `RO ${r.ro_number}` : 'Repair order'} · {when(r.created_at)}{r.parsed?.vehicle ? ` · ${r.parsed.vehicle}` : ''}
                  </Link>
                </li>
              ))}
            </ul>
          ) : <p>No repair orders yet.</p>}
        </section>
        <section className="card" aria-labelledby="consent-title">
          <h2 id="consent-title">Texting consent</h2>
          <p>
            Now: <strong>{consent === 'opted_in' ? 'Agreed to texts' : consent === 'opted_out' ? 'Opted out — do not text' : 'Not recorded'}</strong>
          </p>
          {ledger.length ? (
            <ul className="ledger-list" aria-label="Consent history">
              {ledger.map((e) => (
                <li key={e.id}>
                  <strong>{e.action === 'opt_in' ? 'Opted in' : 'Opted out'}</strong>
                  <span>{SOURCE_LABELS[e.source] ?? e.source}{e.source_detail ? ` (${e.source_detail})` : ''}</span>
                  <span className="muted">{when(e.occurred_at)}</span>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="row">
            <Button variant="secondary" disabled={!ledger.length} onClick={() => download(`consent-${customer.phone}.csv`, 'text/csv;charset=utf-8', ledgerCsv(customer, ledger))}>
              Export ledger (CSV)
            </Button>
            <Button variant="secondary" disabled={!ledger.length} onClick={() => download(`consent-${customer.phone}.json`, 'application/json', JSON.stringify(ledgerEvidence(customer, ledger), null, 2))}>
              Export ledger (JSON)
            </Button>
          </div>
          <RecordConsent tenantId={tenant.id} customer={customer} onRecorded={load} />
        </section>
        <section className="card" aria-labelledby="thread-title">
          <h2 id="thread-title">Messages</h2>
          <Thread tenantId={tenant.id} customerId={customer.id} />
        </section>
      </div>
    </Page>
  );
}

function EditCustomer({ tenantId, customer, onSaved }: { tenantId: string; customer: Customer; onSaved: (c: Customer) => void }) {
  const initial: CustomerDraft = { name: customer.name, phone: customer.phone, email: customer.email ?? '', notes: customer.notes ?? '' };
  const [draft, setDraft] = useState<CustomerDraft>(initial);
  const [errors, setErrors] = useState<Partial<Record<keyof CustomerDraft, string>>>({});
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (what: () => Promise<Customer>, done: string) => {
    setBusy(true);
    setError(null);
    setMsg(null);
    try {
      onSaved(await what());
      setMsg(done);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const { input, errors: errs } = validateCustomer(draft, 'US');
    setErrors(errs);
    if (input) void run(() => customersApi.update(tenantId, customer.id, input), 'Saved.');
  };
  return (
    <section className="card" aria-labelledby="details-title">
      <h2 id="details-title">Details</h2>
      <form onSubmit={submit} noValidate>
        <CustomerFields draft={draft} errors={errors} onChange={setDraft} disabled={busy} />
        {error ? <Alert>{error}</Alert> : null}
        {msg ? <p role="status" className="hint">{msg}</p> : null}
        <div className="row">
          <Button type="submit" busy={busy} busyLabel="Saving…">Save changes</Button>
          <Button
            type="button"
            variant="secondary"
            disabled={busy}
            onClick={() => {
              const archive = !customer.archived_at;
              if (archive && !window.confirm(`Archive ${customer.name}? They disappear from the list; their messages and consent history are kept.`)) return;
              void run(() => customersApi.setArchived(tenantId, customer.id, archive), archive ? 'Archived.' : 'Restored.');
            }}
          >
            {customer.archived_at ? 'Restore' : 'Archive'}
          </Button>
        </div>
      </form>
    </section>
  );
}

function RecordConsent({ tenantId, customer, onRecorded }: { tenantId: string; customer: Customer; onRecorded: () => Promise<void> }) {
  const [choice, setChoice] = useState('opt_in:verbal');
  const [detail, setDetail] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const [action, source] = choice.split(':') as ['opt_in' | 'opt_out', 'verbal' | 'signed_ro' | 'web_form' | 'staff'];
    setBusy(true);
    setError(null);
    try {
      await customersApi.recordConsent(tenantId, customer, action, source, detail);
      setDetail('');
      await onRecorded();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="form" onSubmit={submit}>
      <SelectField
        label="Record consent"
        value={choice}
        onChange={(e) => setChoice(e.target.value)}
        options={[
          { value: 'opt_in:verbal', label: 'Agreed verbally, at the counter' },
          { value: 'opt_in:signed_ro', label: 'Signed a repair order or form' },
          { value: 'opt_in:web_form', label: 'Agreed on a web form' },
          { value: 'opt_out:staff', label: 'Asked us to stop texting' },
        ]}
      />
      <TextField label="Detail" optional hint="E.g. the RO number or who they spoke to." value={detail} onChange={(e) => setDetail(e.target.value)} />
      {error ? <Alert>{error}</Alert> : null}
      <Button type="submit" variant="secondary" busy={busy} busyLabel="Recording…">Record</Button>
    </form>
  );
}
