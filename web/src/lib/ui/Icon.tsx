/** Inline SVG icons (no icon font, no emoji: those depend on the device's fonts). Decorative: aria-hidden. */
import { ICON_PATHS as PATHS, type IconName } from './iconPaths.ts';

export type { IconName };


export function Icon({ name, size = 24, className }: { name: IconName; size?: number; className?: string }) {
  return (
    <svg className={className} width={size} height={size} viewBox="0 0 24 24" fill="currentColor" aria-hidden="true" focusable="false">
      <path d={PATHS[name]} fillRule="evenodd" />
    </svg>
  );
}
