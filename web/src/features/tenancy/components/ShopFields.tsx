import { useMemo } from 'react';
import { SelectField, TextField } from '../../../lib/ui/index.ts';
import { INDUSTRIES, timeZoneOptions, type ShopDraft, type ShopErrors } from '../model.ts';

/** The shop's details: name, industry, time zone, optional phone. Used by sign-up and "create another shop". */
export function ShopFields({ draft, errors, onChange, disabled }: { draft: ShopDraft; errors: ShopErrors; onChange: (d: ShopDraft) => void; disabled?: boolean }) {
  const zones = useMemo(() => timeZoneOptions(draft.timeZone), [draft.timeZone]);
  return (
    <fieldset className="fieldset" disabled={disabled}>
      <legend>Your shop</legend>
      <TextField
        label="Shop name"
        name="shop-name"
        autoComplete="organization"
        value={draft.name}
        onChange={(e) => onChange({ ...draft, name: e.target.value })}
        error={errors.name}
        required
        maxLength={100}
      />
      <SelectField
        label="Industry"
        name="industry"
        value={draft.industry}
        onChange={(e) => onChange({ ...draft, industry: e.target.value })}
        error={errors.industry}
        options={[{ value: '', label: 'Choose one…' }, ...INDUSTRIES.map((i) => ({ value: i.value, label: i.label }))]}
        required
      />
      <SelectField
        label="Time zone"
        name="time-zone"
        hint="Used for your shop's hours and message quiet hours."
        value={draft.timeZone}
        onChange={(e) => onChange({ ...draft, timeZone: e.target.value })}
        error={errors.timeZone}
        options={zones.map((z) => ({ value: z, label: z.replace(/_/g, ' ') }))}
        required
      />
      <TextField
        label="Shop phone"
        name="shop-phone"
        type="tel"
        inputMode="tel"
        autoComplete="tel"
        optional
        hint="With the country code, e.g. +1 555 010 0199. You can add it later."
        value={draft.phone}
        onChange={(e) => onChange({ ...draft, phone: e.target.value })}
        error={errors.phone}
      />
    </fieldset>
  );
}
