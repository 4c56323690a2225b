/** Route group chunk: the owner's screens (usage, billing, shop settings, phone). chart.js stays lazier still. */
export { UsagePage } from '../../features/usage/components/UsagePage.tsx';
export { BillingPage } from '../../features/billing/components/BillingPage.tsx';
export { SettingsPage } from '../../features/settings/components/SettingsPage.tsx';
export { PhonePage } from '../../features/phone/components/PhonePage.tsx';
