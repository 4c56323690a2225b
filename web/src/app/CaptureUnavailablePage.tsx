import { ButtonLink, Page } from '../lib/ui/index.ts';

/** /capture until the capture feature lands in this build. */
export function CaptureUnavailablePage() {
  return (
    <Page title="Snap a repair order" narrow>
      <p className="lead">Capture is not available in this build yet.</p>
      <ButtonLink to="/" variant="secondary">
        Back to home
      </ButtonLink>
    </Page>
  );
}
