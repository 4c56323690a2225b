/**
 * /settings/phone — owners and admins: get a number (area code, with alternatives when it has none left), its
 * status, how calls are answered (forward / SIP / menu), opening hours, greeting and after-hours message, the
 * Advanced bring-your-own Twilio form (the token is write-only: never shown, never read back), release with a typed
 * confirmation, and the voicemails with their transcriptions. Technicians see the number and voicemails only.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { Alert, Button, ErrorRegion, Loading, Page, SelectField, TextField } from '../../../lib/ui/index.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { PhoneError, phoneApi } from '../api.ts';
import {
  ACCOUNT_SID, AREA_CODE, AUTH_TOKEN, WEEKDAYS, formatPhone, hoursToRows, rowsToHours, settingsProblems, toE164,
  type Alternative, type DayRow, type IvrMode, type PhoneNumber,
} from '../model.ts';
import { phoneStore, usePhone } from '../store.ts';
import '../phone.css';

const STATUS_LABEL: Record<string, string> = {
  active: 'Active', suspended: 'Suspended (billing) — callers hear a closed message', releasing: 'Releasing…', released: 'Released',
};

function GetNumber({ tenantId }: { tenantId: string }) {
  const [areaCode, setAreaCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [alternatives, setAlternatives] = useState<Alternative[]>([]);

  async function get(phoneNumber?: string) {
    setBusy(true);
    setError(null);
    try {
      await phoneApi.provision(tenantId, areaCode, phoneNumber);
      setAlternatives([]);
      await phoneStore.getState().load(tenantId, { withCredentials: true });
    } catch (e) {
      setError(errorMessage(e));
      setAlternatives(e instanceof PhoneError ? e.alternatives : []);
    } finally {
      setBusy(false);
    }
  }
  function submit(e: FormEvent) {
    e.preventDefault();
    if (!AREA_CODE.test(areaCode)) { setError('Enter a 3-digit area code, like 918.'); return; }
    void get();
  }
  return (
    <section className="card" aria-labelledby="get-number">
      <h2 id="get-number">Get your shop's number</h2>
      <p className="muted">Customers call and text it; calls are answered the way you choose below.</p>
      <form onSubmit={submit} noValidate>
        <TextField label="Preferred area code" inputMode="numeric" maxLength={3} value={areaCode}
          onChange={(e) => setAreaCode(e.target.value.replace(/\D/g, ''))} hint="We look there first, then nearby, then toll-free." />
        <Button type="submit" busy={busy} busyLabel="Finding a number…">Get a number</Button>
      </form>
      <ErrorRegion error={error} />
      {alternatives.length ? (
        <ul className="phone-alternatives" aria-label="Available numbers">
          {alternatives.map((a) => (
            <li key={a.phone_number}>
              <span>{formatPhone(a.phone_number)} <span className="muted">{a.kind === 'toll_free' ? 'toll-free' : [a.locality, a.region].filter(Boolean).join(', ')}</span></span>
              <Button variant="secondary" disabled={busy} onClick={() => void get(a.phone_number)}>Take this one</Button>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function Settings({ tenantId, n }: { tenantId: string; n: PhoneNumber }) {
  const [mode, setMode] = useState<IvrMode>(n.ivrMode);
  const [forwardTo, setForwardTo] = useState(n.forwardTo ?? '');
  const [sipUri, setSipUri] = useState(n.sipUri ?? '');
  const [alwaysOpen, setAlwaysOpen] = useState(Object.keys(n.hours).length === 0);
  const [rows, setRows] = useState<DayRow[]>(hoursToRows(n.hours));
  const [greeting, setGreeting] = useState(n.greeting ?? '');
  const [afterHours, setAfterHours] = useState(n.afterHoursMessage ?? '');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  const setRow = (day: string, patch: Partial<DayRow>) => setRows(rows.map((r) => (r.day === day ? { ...r, ...patch } : r)));

  async function save(e: FormEvent) {
    e.preventDefault();
    setSaved(false);
    const p = settingsProblems({ mode, forwardTo, sipUri, alwaysOpen, rows, greeting, afterHours });
    setProblems(p);
    if (Object.keys(p).length) return;
    setBusy(true);
    setError(null);
    try {
      const updated = await phoneApi.saveSettings(tenantId, n.id, {
        ivr_mode: mode, forward_to: forwardTo.trim() ? toE164(forwardTo) : null, sip_uri: sipUri.trim() || null,
        hours: alwaysOpen ? {} : rowsToHours(rows), greeting: greeting.trim() || null, after_hours_message: afterHours.trim() || null,
      });
      phoneStore.getState().setNumber(updated);
      setSaved(true);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={save} noValidate aria-labelledby="answering">
      <h2 id="answering">How calls are answered</h2>
      <SelectField label="Mode" value={mode} onChange={(e) => setMode(e.target.value as IvrMode)} options={[
        { value: 'ivr', label: 'Menu: 1 talk to us, 2 text me the link, 3 voicemail' },
        { value: 'forward', label: 'Forward every call to a phone' },
        { value: 'sip', label: 'Send every call to a SIP phone system' },
      ]} />
      <TextField label="Forward calls to" type="tel" value={forwardTo} onChange={(e) => setForwardTo(e.target.value)}
        optional={mode === 'sip'} error={problems.forwardTo} hint="Also used by the menu's option 1." />
      <TextField label="SIP address" value={sipUri} onChange={(e) => setSipUri(e.target.value)} optional={mode !== 'sip'}
        error={problems.sipUri} placeholder="sip:frontdesk@yourshop.example.com" />
      <TextField label="Greeting" value={greeting} onChange={(e) => setGreeting(e.target.value)} optional error={problems.greeting}
        hint="Read before the menu, e.g. “Thanks for calling Joe's Auto.”" />
      <fieldset className="phone-hours">
        <legend>Opening hours (your shop's time zone)</legend>
        <label className="check"><input type="checkbox" checked={alwaysOpen} onChange={(e) => setAlwaysOpen(e.target.checked)} /> Always open</label>
        {!alwaysOpen ? WEEKDAYS.map(({ key, label }) => {
          const r = rows.find((x) => x.day === key)!;
          return (
            <div key={key} className="phone-hours-row">
              <label className="check"><input type="checkbox" checked={r.open} onChange={(e) => setRow(key, { open: e.target.checked })} /> {label}</label>
              {r.open ? (
                <>
                  <input type="time" aria-label={`${label} opens`} value={r.from} onChange={(e) => setRow(key, { from: e.target.value })} />
                  <input type="time" aria-label={`${label} closes`} value={r.to} onChange={(e) => setRow(key, { to: e.target.value })} />
                </>
              ) : <span className="muted">Closed</span>}
              {problems[`hours.${key}`] ? <p className="field-error">Error: {problems[`hours.${key}`]}</p> : null}
            </div>
          );
        }) : null}
      </fieldset>
      <TextField label="After-hours message" value={afterHours} onChange={(e) => setAfterHours(e.target.value)} optional
        error={problems.afterHours} hint="Played when you are closed, before the caller can leave a voicemail." />
      <ErrorRegion error={error} />
      {saved ? <Alert kind="success">Saved. The next call uses these settings.</Alert> : null}
      <Button type="submit" busy={busy} busyLabel="Saving…">Save</Button>
    </form>
  );
}

function Advanced({ tenantId, byo, hasNumber }: { tenantId: string; byo: string | null; hasNumber: boolean }) {
  const [sid, setSid] = useState('');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  async function save(e: FormEvent) {
    e.preventDefault();
    setDone(null);
    if (!ACCOUNT_SID.test(sid.trim())) { setError('The Account SID starts with AC followed by 32 letters and digits.'); return; }
    if (!AUTH_TOKEN.test(token.trim())) { setError('The Auth Token is 32 letters and digits.'); return; }
    setBusy(true);
    setError(null);
    try {
      await phoneApi.saveByo(tenantId, sid.trim(), token.trim());
      setToken('');
      setDone('Checked with Twilio and saved. Your token is stored encrypted and is never shown again.');
      await phoneStore.getState().load(tenantId, { withCredentials: true });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <details className="card phone-advanced">
      <summary>Advanced: use your own Twilio account</summary>
      <p className="muted">{byo ? `Connected: ${byo}.` : 'Not connected: your number lives on a ServicePro-managed account.'}
        {hasNumber ? ' Changing accounts applies to the next number you get.' : ''}</p>
      <form onSubmit={save} noValidate autoComplete="off">
        <TextField label="Account SID" value={sid} onChange={(e) => setSid(e.target.value)} spellCheck={false} />
        <TextField label="Auth Token" type="password" autoComplete="new-password" value={token}
          onChange={(e) => setToken(e.target.value)} hint="Write-only: we check it with Twilio, store it encrypted, and never display it." />
        <ErrorRegion error={error} />
        {done ? <Alert kind="success">{done}</Alert> : null}
        <Button type="submit" busy={busy} busyLabel="Checking with Twilio…">Check and save</Button>
      </form>
    </details>
  );
}

function Release({ tenantId, n }: { tenantId: string; n: PhoneNumber }) {
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const last4 = n.e164.slice(-4);
  async function release(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await phoneApi.release(tenantId);
      await phoneStore.getState().load(tenantId, { withCredentials: true });
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <details className="card phone-release">
      <summary>Release this number</summary>
      <p>Releasing gives {formatPhone(n.e164)} back for good: customers who call or text it will not reach you.</p>
      <form onSubmit={release}>
        <TextField label={`Type the last four digits (${last4}) to confirm`} inputMode="numeric" value={typed} onChange={(e) => setTyped(e.target.value)} />
        <ErrorRegion error={error} />
        <Button type="submit" variant="danger" disabled={typed !== last4} busy={busy} busyLabel="Releasing…">Release number</Button>
      </form>
    </details>
  );
}

function Voicemails() {
  const voicemails = usePhone((s) => s.voicemails);
  if (!voicemails.length) return <p className="muted">No voicemails yet.</p>;
  return (
    <ul className="phone-voicemails">
      {voicemails.map((v) => (
        <li key={v.id} className={v.readAt ? '' : 'unread'}>
          <p><strong>{formatPhone(v.fromPhone)}</strong> <span className="muted">{new Date(v.createdAt).toLocaleString()}{v.durationSeconds !== null ? ` · ${v.durationSeconds}s` : ''}</span></p>
          <p>{v.transcriptionStatus === 'completed' ? v.transcription || '(no words recognised)' : v.transcriptionStatus === 'pending' ? 'Transcribing…' : 'No transcription available.'}</p>
          {v.customerId ? <a href={`/customers/${v.customerId}/thread`}>Open thread</a> : null}
          {!v.readAt ? <Button variant="secondary" onClick={() => void phoneStore.getState().markRead(v.id).catch(() => {})}>Mark as heard</Button> : null}
        </li>
      ))}
    </ul>
  );
}

export function PhonePage() {
  const tenant = useTenancy(selectActiveTenant);
  const status = usePhone((s) => s.status);
  const error = usePhone((s) => s.error);
  const number = usePhone((s) => s.number);
  const byo = usePhone((s) => s.byoAccountSid);
  const tenantId = tenant?.id ?? null;
  const canManage = tenant?.role === 'owner' || tenant?.role === 'admin';

  useEffect(() => {
    if (tenantId) void phoneStore.getState().load(tenantId, { withCredentials: canManage });
  }, [tenantId, canManage]);

  if (!tenant) return null;
  return (
    <Page title="Phone" heading="Phone number">
      {status === 'loading' && !number ? <Loading label="Loading phone settings…" /> : null}
      {error ? <Alert>{error}</Alert> : null}
      {number ? (
        <section className="card" aria-labelledby="your-number">
          <h2 id="your-number">{formatPhone(number.e164)}</h2>
          <p className={`phone-status phone-status-${number.status}`}>Status: {STATUS_LABEL[number.status] ?? number.status}</p>
        </section>
      ) : null}
      {canManage && status === 'ready' && !number ? <GetNumber tenantId={tenant.id} /> : null}
      {canManage && number ? <Settings key={number.id} tenantId={tenant.id} n={number} /> : null}
      {!canManage ? <p className="muted">Only the shop's owners and admins change phone settings.</p> : null}
      <section className="card" aria-labelledby="voicemails">
        <h2 id="voicemails">Voicemails</h2>
        <Voicemails />
      </section>
      {canManage && status === 'ready' ? <Advanced tenantId={tenant.id} byo={byo} hasNumber={!!number} /> : null}
      {canManage && number && number.status !== 'releasing' ? <Release tenantId={tenant.id} n={number} /> : null}
    </Page>
  );
}
