/**
 * The shop form's draft survives a failed request, a reload and an email-confirmation round trip: it is kept in
 * localStorage until the shop exists. It holds only what the person typed about their shop (no password).
 */
import { browserStorage, readJson, remove, writeJson, type KeyValueStorage } from '../../lib/storage.ts';
import { defaultTimeZone, type ShopDraft } from './model.ts';

export const SHOP_DRAFT_KEY = 'servicepro.shopDraft';

export function emptyShopDraft(): ShopDraft {
  return { name: '', industry: '', timeZone: defaultTimeZone(), phone: '' };
}

export function loadShopDraft(storage: KeyValueStorage | null = browserStorage()): ShopDraft {
  const saved = readJson<Partial<ShopDraft>>(storage, SHOP_DRAFT_KEY);
  const base = emptyShopDraft();
  if (!saved || typeof saved !== 'object') return base;
  return {
    name: typeof saved.name === 'string' ? saved.name : base.name,
    industry: typeof saved.industry === 'string' ? saved.industry : base.industry,
    timeZone: typeof saved.timeZone === 'string' && saved.timeZone ? saved.timeZone : base.timeZone,
    phone: typeof saved.phone === 'string' ? saved.phone : base.phone,
  };
}

export function saveShopDraft(draft: ShopDraft, storage: KeyValueStorage | null = browserStorage()): void {
  writeJson(storage, SHOP_DRAFT_KEY, draft);
}

export function clearShopDraft(storage: KeyValueStorage | null = browserStorage()): void {
  remove(storage, SHOP_DRAFT_KEY);
}
