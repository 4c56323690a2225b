import { useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { Alert, Button, ButtonLink, Loading, Page, SelectField, TextField } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { errorMessage, toAppError } from '../../../lib/errors.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { captureApi, type ConsentSource, type MessageTemplate, type RepairOrderDetail, type SaveResult } from '../api.ts';
import { FIELD_LABELS, FIELDS, draftFromParsed, lowConfidenceFields, messageKey, validateReview, type Field, type ReviewDraft } from '../model.ts';
import { sendStore } from '../../messaging/sendStore.ts';
import { billingActionFor } from '../../messaging/errors.ts';
import '../capture.css';

const HINTS: Partial<Record<Field, string>> = {
  phone: 'The customer’s mobile, for texts. Numbers without + use the shop’s country.',
  vin: '17 characters; optional.',
  vehicle: 'Year, make and model, or the device.',
};

/** /capture/review/:id — the photo beside the fields OCR read; check, fix, save; then text the customer. */
export function ReviewPage({ id }: { id: string }) {
  const tenant = useTenancy(selectActiveTenant);
  const tenantId = tenant?.id ?? null;
  const [ro, setRo] = useState<RepairOrderDetail | null>(null);
  const [photo, setPhoto] = useState<string | null>(null);
  const [country, setCountry] = useState<string | null>('US');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [draft, setDraft] = useState<ReviewDraft>(draftFromParsed(null));
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [consent, setConsent] = useState<'' | ConsentSource>('');
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [saved, setSaved] = useState<SaveResult | null>(null);

  useEffect(() => {
    if (!tenantId) return;
    let cancelled = false;
    setLoadError(null);
    (async () => {
      try {
        const [detail, c] = await Promise.all([captureApi.getRepairOrder(tenantId, id), captureApi.tenantCountry(tenantId).catch(() => null)]);
        if (cancelled) return;
        setRo(detail);
        setCountry(c ?? 'US');
        setDraft(draftFromParsed(detail.parsed));
        if (detail.status === 'reviewed' && detail.customer_id) {
          setSaved({ repair_order_id: detail.id, customer_id: detail.customer_id, customer_created: false });
          if (detail.customer) setDraft((d) => ({ ...d, name: detail.customer!.name, phone: detail.customer!.phone, ro_number: detail.ro_number ?? d.ro_number }));
        }
        captureApi.photoUrl(detail.photo_path).then((u) => { if (!cancelled) setPhoto(u); }, () => {});
      } catch (e) {
        if (!cancelled) setLoadError(errorMessage(e));
      }
    })();
    return () => { cancelled = true; };
  }, [tenantId, id]);

  const low = useMemo(() => new Set(lowConfidenceFields(ro?.parsed)), [ro]);

  if (!tenant) return null;
  if (loadError) {
    return (
      <Page title="Review repair order" narrow>
        <Alert>{loadError}</Alert>
        <ButtonLink to="/capture" variant="secondary">Back to capture</ButtonLink>
      </Page>
    );
  }
  if (!ro) return <Page title="Review repair order"><Loading label="Loading the repair order…" /></Page>;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const { input, errors: errs } = validateReview(draft, country);
    setErrors(errs);
    setSaveError(null);
    if (!input) return;
    setSaving(true);
    try {
      setSaved(await captureApi.saveReview(tenant.id, ro.id, input, consent || null));
    } catch (err) {
      setSaveError(errorMessage(err));
    } finally {
      setSaving(false);
    }
  };

  return (
    <Page title="Review repair order" heading={ro.ro_number ? `Repair order ${ro.ro_number}` : 'Review repair order'}>
      <div className="review-layout">
        <figure className="review-photo">
          {photo ? (
            <a href={photo} target="_blank" rel="noreferrer">
              <img src={photo} alt="The repair order photo" />
            </a>
          ) : (
            <div className="review-photo-placeholder">Loading photo…</div>
          )}
          <figcaption className="hint">Tap the photo to zoom.</figcaption>
        </figure>
        <div>
          {ro.status === 'failed' ? (
            <Alert>This photo could not be read ({ro.error_code ?? 'unknown error'}). Type the details in, or take the photo again.</Alert>
          ) : null}
          {low.size && !saved ? (
            <p className="review-legend">
              <span className="low-flag" aria-hidden="true">⚠</span> <strong>Check</strong> marks a field the reader was unsure about.
            </p>
          ) : null}
          <form className="form" onSubmit={submit} noValidate>
            {FIELDS.map((f) => (
              <div key={f} className={low.has(f) && !saved ? 'review-field review-low' : 'review-field'}>
                <TextField
                  label={low.has(f) && !saved ? `${FIELD_LABELS[f]} — check this` : FIELD_LABELS[f]}
                  hint={HINTS[f]}
                  value={draft[f]}
                  onChange={(e) => setDraft({ ...draft, [f]: e.target.value })}
                  error={errors[f] ?? null}
                  optional={f === 'vehicle' || f === 'vin' || f === 'ro_number'}
                  inputMode={f === 'phone' ? 'tel' : undefined}
                  autoComplete="off"
                  autoCapitalize={f === 'vin' ? 'characters' : undefined}
                  disabled={!!saved}
                />
                {low.has(f) && !saved ? <span className="low-flag" aria-hidden="true">⚠</span> : null}
              </div>
            ))}
            <SelectField
              label="Texting consent"
              hint="Record consent only if the customer agreed to receive texts."
              value={consent}
              onChange={(e) => setConsent(e.target.value as '' | ConsentSource)}
              options={[
                { value: '', label: 'Not recorded now' },
                { value: 'signed_ro', label: 'Signed on the repair order' },
                { value: 'verbal', label: 'Agreed verbally at the counter' },
              ]}
              disabled={!!saved}
            />
            {saveError ? <Alert>{saveError}</Alert> : null}
            {saved ? null : (
              <Button type="submit" busy={saving} busyLabel="Saving…">
                Save customer and repair order
              </Button>
            )}
          </form>
          {saved ? <AfterSave tenantId={tenant.id} ro={ro} saved={saved} /> : null}
        </div>
      </div>
    </Page>
  );
}

function AfterSave({ tenantId, ro, saved }: { tenantId: string; ro: RepairOrderDetail; saved: SaveResult }) {
  return (
    <section className="card" aria-labelledby="saved-title">
      <h2 id="saved-title">
        <span aria-hidden="true">✓ </span>Saved
      </h2>
      <p>
        {saved.customer_created ? 'New customer created. ' : 'Added to the existing customer. '}
        <Link to={`/customers/${saved.customer_id}`}>Open the customer</Link>
      </p>
      <MessageButton tenantId={tenantId} ro={ro} customerId={saved.customer_id} template="pickup_ready" label="Ready for pickup" allowPhoto />
      <MessageButton tenantId={tenantId} ro={ro} customerId={saved.customer_id} template="review_request" label="Ask for a review" />
      <ButtonLink to="/capture" variant="secondary">Snap the next one</ButtonLink>
    </section>
  );
}

function MessageButton({ tenantId, ro, customerId, template, label, allowPhoto = false }: { tenantId: string; ro: RepairOrderDetail; customerId: string; template: MessageTemplate; label: string; allowPhoto?: boolean }) {
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** A refusal Billing lifts (texts used up, billing not in good standing) links there, as in the composer. */
  const [billingAction, setBillingAction] = useState<string | null>(null);
  const [withPhoto, setWithPhoto] = useState(false);
  // One key per intended message: a double tap or a retry after a timeout cannot text twice.
  const key = useRef(messageKey(ro.id, template, crypto.randomUUID()));
  const send = async () => {
    setBusy(true);
    setError(null);
    setBillingAction(null);
    try {
      // Through the device outbox: offline, or on a failure that may pass, the text waits with its key and goes later.
      const r = await sendStore.getState().send({ key: key.current, tenantId, customerId, template, repairOrderId: ro.id, mediaPaths: withPhoto ? [ro.photo_path] : undefined, label: `${label} (RO ${ro.ro_number ?? ro.id.slice(0, 8)})` });
      setResult(r.kind === 'queued' ? r.message : r.message.status === 'scheduled' ? 'Scheduled for the customer’s daytime hours.' : 'Sent.');
    } catch (e) {
      const err = toAppError(e);
      setError(err.message);
      setBillingAction(billingActionFor(err.code));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="message-action">
      {allowPhoto ? (
        <label className="check">
          <input type="checkbox" checked={withPhoto} onChange={(e) => setWithPhoto(e.target.checked)} disabled={!!result} /> Attach the intake photo (MMS)
        </label>
      ) : null}
      <Button onClick={send} busy={busy} busyLabel="Sending…" disabled={!!result}>
        {label}
      </Button>
      {result ? <p role="status" className="hint"><span aria-hidden="true">✓ </span>{label}: {result}</p> : null}
      {error ? (
        <p role="alert" className="field-error">
          <span aria-hidden="true">⚠ </span>{label}: {error}
          {billingAction ? <> <Link to="/billing">{billingAction}</Link></> : null}
        </p>
      ) : null}
    </div>
  );
}
