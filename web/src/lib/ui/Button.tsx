import type { ButtonHTMLAttributes } from 'react';
import { Link, type LinkProps } from '../router.ts';

type Variant = 'primary' | 'secondary' | 'danger' | 'link';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  /** Shows a busy state and blocks repeat presses (a double tap must not send twice). */
  busy?: boolean;
  /** Text announced and shown while busy, e.g. "Signing in…". */
  busyLabel?: string;
  size?: 'normal' | 'hero';
}

export function Button({ variant = 'primary', busy = false, busyLabel, size = 'normal', className, children, disabled, type, ...rest }: ButtonProps) {
  return (
    <button
      {...rest}
      type={type ?? 'button'}
      className={['btn', `btn-${variant}`, size === 'hero' ? 'btn-hero' : '', className ?? ''].filter(Boolean).join(' ')}
      disabled={disabled || busy}
      aria-busy={busy || undefined}
    >
      {busy ? (busyLabel ?? children) : children}
    </button>
  );
}

export function ButtonLink({ variant = 'primary', size = 'normal', className, ...rest }: LinkProps & { variant?: Variant; size?: 'normal' | 'hero' }) {
  return <Link {...rest} className={['btn', `btn-${variant}`, size === 'hero' ? 'btn-hero' : '', className ?? ''].filter(Boolean).join(' ')} />;
}
