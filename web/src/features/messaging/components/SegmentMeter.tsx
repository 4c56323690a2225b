import { countSegments } from '../segments.ts';

/** Live encoding/segment meter: "GSM-7 · 1 segment · 38 left" (UCS-2 names the characters that caused it). */
export function SegmentMeter({ body }: { body: string }) {
  const info = countSegments(body);
  const chars = [...body].length;
  return (
    <p className="segment-meter" aria-live="polite">
      <span>{info.encoding}</span> · <span>{info.segments} segment{info.segments === 1 ? '' : 's'}</span> ·{' '}
      <span>{info.remaining} left</span> · <span>{chars}/1600</span>
      {info.encoding === 'UCS-2' && info.nonGsm.length ? (
        <span className="segment-meter-why"> — because of {info.nonGsm.slice(0, 5).map((c) => `“${c}”`).join(' ')}</span>
      ) : null}
    </p>
  );
}
