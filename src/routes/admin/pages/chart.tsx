import { createElement } from "#jsx/jsx-runtime";
import type { HourlyCounts, JournalOutcome } from "../../../licenses/journal";

/** Series of the chart, bottom to top; `not_installed` is drawn with `unprocessable`. */
const SERIES: { key: JournalOutcome; label: string; also?: JournalOutcome }[] = [
  { key: "processed", label: "processed" },
  { key: "skipped", label: "skipped" },
  { key: "unprocessable", label: "unprocessable / not installed", also: "not_installed" },
  { key: "retry", label: "failed, retried" },
  { key: "dead", label: "dead" },
];

const W = 480;
const H = 140;
const PAD_L = 28;
const PAD_B = 18;
const PAD_T = 8;

/**
 * Deliveries and outcomes over the last 24 hours as a server-rendered stacked bar chart (SVG,
 * no script; one bar per hour, oldest left, hour labels in UTC; a `<title>` per bar for details).
 */
export function DeliveryChart(props: { hours: HourlyCounts[] }) {
  const hours = props.hours;
  const value = (h: HourlyCounts, s: (typeof SERIES)[number]) => (h.counts[s.key] ?? 0) + (s.also ? (h.counts[s.also] ?? 0) : 0);
  const totals = hours.map((h) => SERIES.reduce((n, s) => n + value(h, s), 0));
  const max = Math.max(1, ...totals);
  const plotW = W - PAD_L - 4;
  const plotH = H - PAD_B - PAD_T;
  const slot = plotW / Math.max(1, hours.length);
  const barW = Math.max(2, slot - 3);
  const y = (n: number) => PAD_T + plotH - (n / max) * plotH;
  const sum = totals.reduce((a, b) => a + b, 0);
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Delivery outcomes per hour, last 24 hours: ${sum} in total`}>
        <line x1={PAD_L} y1={y(max)} x2={W - 4} y2={y(max)} />
        <line x1={PAD_L} y1={y(0)} x2={W - 4} y2={y(0)} />
        <text x={PAD_L - 4} y={y(max) + 3} text-anchor="end">
          {String(max)}
        </text>
        <text x={PAD_L - 4} y={y(0) + 3} text-anchor="end">
          0
        </text>
        {hours.map((h, i) => {
          let base = 0;
          const x = PAD_L + i * slot + 1.5;
          const hour = new Date(h.hour).toISOString().slice(11, 13);
          const detail = SERIES.map((s) => `${s.label}: ${value(h, s)}`).join(", ");
          return (
            <g>
              <title>{`${new Date(h.hour).toISOString().slice(0, 13)}:00Z — ${totals[i]} (${detail})`}</title>
              <rect class="b-hover" x={x} y={PAD_T} width={barW} height={plotH} fill="transparent" />
              {SERIES.map((s) => {
                const n = value(h, s);
                if (n === 0) return null;
                const top = y(base + n);
                const bottom = y(base);
                base += n;
                return <rect class={`b-${s.key}`} x={x} y={top} width={barW} height={Math.max(1, bottom - top)} />;
              })}
              {i % 6 === 0 && (
                <text x={x + barW / 2} y={H - 5} text-anchor="middle">
                  {`${hour}h`}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="legend">
        {SERIES.map((s) => (
          <span>
            <i class={`b-${s.key}`} />
            {s.label}
          </span>
        ))}
        <span class="muted">{`${sum} attempts in 24 h (UTC hours)`}</span>
      </figcaption>
    </figure>
  );
}
