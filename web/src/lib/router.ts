/**
 * A small History-API router: enough for a PWA with a dozen screens, without a dependency.
 * - `matchPath` / `parseQuery` / `safeNext` are pure (unit-tested).
 * - `navigate` pushes or replaces history and notifies subscribers; `useLocation` re-renders on changes;
 *   `Link` is an <a> that navigates in-app on a plain left click and behaves normally otherwise.
 */
import { createElement, useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from 'react';

export interface Location {
  pathname: string;
  search: string;
}

export type Params = Record<string, string>;

/** Matches "/invite/:token" against "/invite/abc" → { token: "abc" }. Trailing slashes are ignored. */
export function matchPath(pattern: string, pathname: string): Params | null {
  const split = (p: string) => p.split('/').filter(Boolean);
  const pp = split(pattern);
  const sp = split(pathname);
  if (pp.length !== sp.length) return null;
  const params: Params = {};
  for (let i = 0; i < pp.length; i++) {
    const seg = pp[i]!;
    const val = sp[i]!;
    if (seg.startsWith(':')) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(val);
      } catch {
        return null;
      }
      params[seg.slice(1)] = decoded;
    } else if (seg !== val) {
      return null;
    }
  }
  return params;
}

export function parseQuery(search: string): URLSearchParams {
  return new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
}

/**
 * Where to go after signing in. Only same-app absolute paths are accepted ("/invite/x"), never another origin
 * ("//evil.example", "https://…", "/\\evil"), so a crafted ?next= cannot send someone off-site.
 */
export function safeNext(next: string | null | undefined, fallback = '/'): string {
  if (!next || typeof next !== 'string') return fallback;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  if (/[\u0000-\u001f]/.test(next)) return fallback;
  return next;
}

/** "/sign-in?next=%2Finvite%2Fabc" */
export function withNext(path: string, next: string | null | undefined): string {
  const safe = next ? safeNext(next, '') : '';
  return safe && safe !== '/' ? `${path}?next=${encodeURIComponent(safe)}` : path;
}

// ---- Browser binding ---------------------------------------------------------------------------------------------

const listeners = new Set<() => void>();
let snapshot = '';

function currentKey(): string {
  return typeof window === 'undefined' ? '/' : window.location.pathname + window.location.search;
}

function notify(): void {
  snapshot = currentKey();
  for (const l of listeners) l();
}

function subscribe(listener: () => void): () => void {
  if (listeners.size === 0 && typeof window !== 'undefined') window.addEventListener('popstate', notify);
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && typeof window !== 'undefined') window.removeEventListener('popstate', notify);
  };
}

function getSnapshot(): string {
  if (!snapshot) snapshot = currentKey();
  return snapshot;
}

export function navigate(to: string, opts: { replace?: boolean } = {}): void {
  if (to === currentKey()) return;
  if (opts.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  notify();
  window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const key = useSyncExternalStore(subscribe, getSnapshot, () => '/');
  const q = key.indexOf('?');
  return q === -1 ? { pathname: key, search: '' } : { pathname: key.slice(0, q), search: key.slice(q) };
}

export type LinkProps = Omit<AnchorHTMLAttributes<HTMLAnchorElement>, 'href'> & {
  to: string;
  replace?: boolean;
  children?: ReactNode;
};

export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  const handle = (e: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (rest.target && rest.target !== '_self') return;
    e.preventDefault();
    navigate(to, { replace });
  };
  return createElement('a', { ...rest, href: to, onClick: handle }, children);
}
