import { Component, Suspense, type ReactNode } from 'react';
import { Button, Loading, Page } from '../lib/ui/index.ts';

interface State {
  error: Error | null;
}

/**
 * Around each lazily loaded screen: a spinner while its chunk loads, and — when the chunk cannot be loaded (offline
 * before the service worker cached it, or a new version replaced it) — a plain explanation with a Reload button
 * instead of a blank screen. `resetKey` (the path) clears the error when someone navigates elsewhere.
 */
export class ScreenBoundary extends Component<{ children: ReactNode; resetKey: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidUpdate(prev: { resetKey: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (this.state.error) {
      const offline = typeof navigator !== 'undefined' && !navigator.onLine;
      return (
        <Page title="Couldn't open this screen" narrow>
          <p role="alert">
            {offline
              ? "This screen isn't saved on this device yet and you're offline. It opens once you're back online."
              : 'This screen could not be loaded. A new version of ServicePro may be out: reload to get it.'}
          </p>
          <Button onClick={() => window.location.reload()}>Reload</Button>
        </Page>
      );
    }
    return <Suspense fallback={<Loading label="Opening…" />}>{this.props.children}</Suspense>;
  }
}
