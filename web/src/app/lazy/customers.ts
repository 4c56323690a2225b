/** Route group chunk: customers, CSV import (papaparse), threads and the send outbox. */
export { CustomersPage, NewCustomerPage } from '../../features/customers/components/CustomersPage.tsx';
export { CustomerDetailPage } from '../../features/customers/components/CustomerDetailPage.tsx';
export { ImportPage } from '../../features/customers/components/ImportPage.tsx';
export { ThreadPage } from '../../features/messaging/components/ThreadPage.tsx';
export { SendOutboxPage } from '../../features/messaging/components/SendOutboxPage.tsx';
