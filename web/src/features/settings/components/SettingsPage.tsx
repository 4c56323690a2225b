import { useEffect, useId, type FormEvent } from 'react';
import { Alert, Button, ErrorRegion, Loading, Page, TextField } from '../../../lib/ui/index.ts';
import { Link } from '../../../lib/router.ts';
import { selectActiveTenant, useTenancy } from '../../tenancy/store.ts';
import { canManageMembers } from '../../tenancy/model.ts';
import { MERGE_FIELDS } from '../../messaging/templates.ts';
import { LEGAL_END, LEGAL_START, TEMPLATE_MAX, previewTemplate, templateWarnings, type SettingsField } from '../model.ts';
import { settingsStore, useSettings } from '../store.ts';
import '../settings.css';

/**
 * /settings — the shop's texting settings: Google review link, sending window (only ever narrower than
 * 08:00–21:00), the pickup and review messages with their merge fields and a live segment meter, the review
 * reminder; the overage policy lives on Billing. Owners and admins edit; everyone else reads.
 */
export function SettingsPage() {
  const tenant = useTenancy(selectActiveTenant);
  const status = useSettings((s) => s.status);
  const draft = useSettings((s) => s.draft);
  const loaded = useSettings((s) => s.loaded);
  const errors = useSettings((s) => s.errors);
  const error = useSettings((s) => s.error);
  const saving = useSettings((s) => s.saving);
  const savedAt = useSettings((s) => s.savedAt);
  const tenantId = tenant?.id;
  useEffect(() => { if (tenantId) void settingsStore.getState().load(tenantId); }, [tenantId]);
  if (!tenant) return null;
  const canEdit = canManageMembers(tenant.role);
  const edit = (f: SettingsField) => (e: { target: { value: string } }) => settingsStore.getState().edit(f, e.target.value);
  const submit = (e: FormEvent) => { e.preventDefault(); void settingsStore.getState().save(); };

  return (
    <Page title="Shop settings" heading={`Settings of ${tenant.name}`}>
      {!canEdit ? <Alert kind="info">Only owners and admins can change these settings. You can read them here.</Alert> : null}
      {status === 'loading' && !draft ? <Loading label="Loading the settings…" /> : null}
      {status === 'error' && !draft ? (
        <>
          <Alert>{error ?? 'The settings could not be loaded.'}</Alert>
          <Button onClick={() => void settingsStore.getState().load(tenant.id)}>Try again</Button>
        </>
      ) : null}
      {draft && loaded ? (
        <form className="settings-form" onSubmit={submit} noValidate>
          <ErrorRegion error={draft ? error : null} />
          {savedAt ? <Alert kind="success">Settings saved.</Alert> : null}
          <fieldset disabled={!canEdit || saving}>
            <div className="settings-grid">
              <section className="card" aria-labelledby="reviews-title">
                <h2 id="reviews-title">Reviews</h2>
                <TextField label="Google review link" type="url" inputMode="url" autoComplete="off" optional
                  hint="Where {review_link} sends customers. In Google Business Profile: Ask for reviews → copy the link."
                  value={draft.googleReviewUrl} onChange={edit('googleReviewUrl')} error={errors.googleReviewUrl}
                  placeholder="https://g.page/r/…/review" />
                <TextField label="Review reminder after (days)" type="number" inputMode="numeric" min={1} max={30} optional
                  hint="One reminder this many days after a review request that got no click. Empty: no reminder."
                  value={draft.reviewReminderDays} onChange={edit('reviewReminderDays')} error={errors.reviewReminderDays} />
              </section>
              <section className="card" aria-labelledby="window-title">
                <h2 id="window-title">Sending window</h2>
                <p className="hint">
                  Texts go out only between these times in the customer's local time; anything sent outside waits for the
                  next window. The law allows {LEGAL_START}–{LEGAL_END} at most, so you can only make it narrower.
                </p>
                <div className="row">
                  <TextField className="inline-field" label="Earliest" type="time" min={LEGAL_START} max={LEGAL_END} step={300}
                    value={draft.quietStart} onChange={edit('quietStart')} error={errors.quietStart} />
                  <TextField className="inline-field" label="Latest" type="time" min={LEGAL_START} max={LEGAL_END} step={300}
                    value={draft.quietEnd} onChange={edit('quietEnd')} error={errors.quietEnd} />
                </div>
              </section>
            </div>
            <section className="card" aria-labelledby="templates-title">
              <h2 id="templates-title">Messages</h2>
              <p className="hint">
                Merge fields: {MERGE_FIELDS.map((f, i) => <span key={f}>{i ? ' ' : ''}<code>{f}</code></span>)}. The preview fills
                them with sample values; the meter counts the segments your plan's quota counts.
              </p>
              <TemplateField label="Ready for pickup" kind="pickup" value={draft.pickupTemplate} shopName={tenant.name}
                onChange={edit('pickupTemplate')} error={errors.pickupTemplate} />
              <TemplateField label="Review request" kind="review" value={draft.reviewTemplate} shopName={tenant.name}
                onChange={edit('reviewTemplate')} error={errors.reviewTemplate} />
            </section>
            <section className="card" aria-labelledby="overage-title">
              <h2 id="overage-title">When the month's texts run out</h2>
              <p>
                Now: <strong>{loaded.settings.overagePolicy === 'metered' ? 'keep sending and pay per extra segment' : 'stop sending until the next period'}</strong>.{' '}
                <Link to="/billing">Change the overage policy in Billing</Link>
              </p>
            </section>
            {canEdit ? (
              <div className="settings-actions">
                <Button type="submit" busy={saving} busyLabel="Saving…">Save settings</Button>
              </div>
            ) : null}
          </fieldset>
        </form>
      ) : null}
    </Page>
  );
}

function TemplateField({ label, kind, value, shopName, onChange, error }: {
  label: string; kind: 'pickup' | 'review'; value: string; shopName: string;
  onChange: (e: { target: { value: string } }) => void; error?: string;
}) {
  const id = useId();
  const { text, info } = previewTemplate(value, shopName);
  const warnings = templateWarnings(value, kind);
  const hintId = `${id}-meter`;
  const errorId = `${id}-error`;
  return (
    <div className={error ? 'field field-invalid template-field' : 'field template-field'}>
      <label htmlFor={id}>{label} message</label>
      <textarea id={id} rows={3} value={value} onChange={onChange} maxLength={TEMPLATE_MAX + 200}
        aria-invalid={error ? true : undefined} aria-describedby={[hintId, error ? errorId : ''].filter(Boolean).join(' ')} />
      {error ? <p id={errorId} className="field-error"><span aria-hidden="true">⚠ </span>Error: {error}</p> : null}
      <div id={hintId} className="template-preview">
        <p className="segment-meter" aria-live="polite">
          Preview: {info.encoding} · {info.segments} segment{info.segments === 1 ? '' : 's'} per text · {[...text].length} characters
          {info.encoding === 'UCS-2' && info.nonGsm.length ? ` — because of ${info.nonGsm.slice(0, 5).map((c) => `“${c}”`).join(' ')}` : ''}
        </p>
        <p className="template-sample">{text}</p>
        {warnings.map((w) => <p key={w} className="hint"><span aria-hidden="true">ⓘ </span>Note: {w}</p>)}
      </div>
    </div>
  );
}
