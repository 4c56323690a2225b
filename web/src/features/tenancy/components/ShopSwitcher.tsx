import { useId, useState } from 'react';
import { navigate } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { tenancyStore, useTenancy } from '../store.ts';
import { ROLE_LABELS } from '../model.ts';

const CREATE = '__create__';

/**
 * Which shop the person is acting for. Every request after a switch carries the new shop's id; screens reload
 * what they show for it. The last option opens "Create another shop".
 */
export function ShopSwitcher() {
  const id = useId();
  const tenants = useTenancy((s) => s.tenants);
  const activeTenantId = useTenancy((s) => s.activeTenantId);
  const [error, setError] = useState<string | null>(null);
  if (!tenants.length) return null;
  return (
    <div className="shop-switcher">
      <label htmlFor={id} className="visually-hidden">
        Shop
      </label>
      <select
        id={id}
        value={activeTenantId ?? ''}
        onChange={(e) => {
          const value = e.target.value;
          if (value === CREATE) {
            navigate('/create-shop');
            return;
          }
          try {
            tenancyStore.getState().switchTenant(value);
            setError(null);
          } catch (err) {
            setError(errorMessage(err));
          }
        }}
      >
        {tenants.map((t) => (
          <option key={t.id} value={t.id}>
            {t.name} ({ROLE_LABELS[t.role]})
          </option>
        ))}
        <option value={CREATE}>+ Create another shop…</option>
      </select>
      {error ? (
        <span role="alert" className="inline-error">
          <strong>Error:</strong> {error}
        </span>
      ) : null}
    </div>
  );
}
