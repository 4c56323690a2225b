import { useEffect, useRef, useState } from 'react';
import type { Chart as ChartType } from 'chart.js';

export interface ChartSeries {
  label: string;
  values: number[];
  color: string;
}

/**
 * A line chart of daily usage. chart.js (~200 kB) loads only when a chart is on screen (dynamic import), so the
 * rest of the app never pays for it.
 */
export function UsageChart({ labels, series, title }: { labels: string[]; series: ChartSeries[]; title: string }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<ChartType | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let cancelled = false;
    void import('chart.js/auto').then(({ default: Chart }) => {
      if (cancelled || !canvas.current) return;
      chart.current?.destroy();
      chart.current = new Chart(canvas.current, {
        type: 'line',
        data: {
          labels,
          datasets: series.map((s) => ({
            label: s.label, data: s.values, borderColor: s.color, backgroundColor: s.color, tension: 0.25, pointRadius: 2,
          })),
        },
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          interaction: { mode: 'index', intersect: false },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    }).catch(() => { if (!cancelled) setFailed(true); });
    return () => { cancelled = true; };
  }, [labels, series]);

  useEffect(() => () => { chart.current?.destroy(); chart.current = null; }, []);

  return (
    <figure className="usage-chart">
      <div style={{ position: 'relative', height: 280 }}>
        <canvas ref={canvas} role="img" aria-label={title} />
      </div>
      {failed ? <figcaption>The chart could not load (offline?). The numbers above are current.</figcaption> : null}
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead><tr><th>Day</th>{series.map((s) => <th key={s.label}>{s.label}</th>)}</tr></thead>
        <tbody>{labels.map((l, i) => <tr key={l}><td>{l}</td>{series.map((s) => <td key={s.label}>{s.values[i]}</td>)}</tr>)}</tbody>
      </table>
    </figure>
  );
}
