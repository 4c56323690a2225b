import { useState, type FormEvent } from 'react';
import { Button, ErrorRegion, Page } from '../../../lib/ui/index.ts';
import { navigate } from '../../../lib/router.ts';
import { errorMessage } from '../../../lib/errors.ts';
import { tenancyStore, useTenancy } from '../store.ts';
import { validateShop, type ShopErrors } from '../model.ts';
import { clearShopDraft, loadShopDraft, saveShopDraft } from '../draft.ts';
import { ShopFields } from './ShopFields.tsx';

/** For a signed-in person: their first shop (account created, shop not yet) or another one. */
export function CreateShopPage() {
  const hasShops = useTenancy((s) => s.tenants.length > 0);
  const [draft, setDraft] = useState(loadShopDraft);
  const [errors, setErrors] = useState<ShopErrors>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    const v = validateShop(draft);
    if (!v.ok) {
      setErrors(v.errors);
      setError('Some details need fixing: see the marked fields.');
      return;
    }
    setErrors({});
    setError(null);
    setBusy(true);
    saveShopDraft(draft);
    try {
      await tenancyStore.getState().createShop(v.shop);
      clearShopDraft();
      navigate('/', { replace: true });
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  };

  return (
    <Page title={hasShops ? 'Create another shop' : 'Set up your shop'} narrow>
      <p className="lead">
        {hasShops
          ? 'You will be its owner. Switch between your shops at the top of the screen.'
          : 'One last step: tell us about your shop. Your 14-day free trial starts now.'}
      </p>
      <form onSubmit={submit} noValidate className="form">
        <ErrorRegion error={error} />
        <ShopFields
          draft={draft}
          errors={errors}
          onChange={(d) => {
            setDraft(d);
            saveShopDraft(d);
          }}
          disabled={busy}
        />
        <Button type="submit" busy={busy} busyLabel="Creating your shop…">
          Create shop
        </Button>
      </form>
    </Page>
  );
}
