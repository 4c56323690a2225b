/** Route group chunk: shop set-up, members and invitations. */
export { CreateShopPage } from '../../features/tenancy/components/CreateShopPage.tsx';
export { MembersPage } from '../../features/tenancy/components/MembersPage.tsx';
export { AcceptInvitePage } from '../../features/tenancy/components/AcceptInvitePage.tsx';
