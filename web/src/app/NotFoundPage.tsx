import { ButtonLink, Page } from '../lib/ui/index.ts';

export function NotFoundPage() {
  return (
    <Page title="Page not found" narrow>
      <p className="lead">There's no page at this address. It may have moved, or the link may be mistyped.</p>
      <ButtonLink to="/">Go to home</ButtonLink>
    </Page>
  );
}
