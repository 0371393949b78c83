import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

import { decimal } from './format';
import { type ChartData, dayOf, pointCount } from './series';

/**
 * A uPlot chart with its data as a table beside it (in a closed <details>): the table is the chart's text
 * alternative for screen readers and what the browser test reads back. `data-points` is the number of
 * values drawn.
 */

/** Tick steps of a day axis: whole days only, whatever the range. */
const DAY_STEPS = [1, 2, 7, 14, 28, 91, 182, 364].map((days) => days * 86_400);
const HALF_DAY = 43_200;

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7b83', '#57606a'];

export interface ChartProps {
  id: string;
  title: string;
  data: ChartData;
  /** 'day': x is a UTC day (seconds); 'hour': x is an hour of day 0-23. */
  xKind: 'day' | 'hour';
  /** Label of the x axis (default: Day, or Local hour). */
  xLabel?: string;
  leftLabel: string;
  /** Series (by label) drawn against a second axis on the right, and its label. */
  right?: { label: string; series: readonly string[] };
  digits?: number;
}

const xText = (xKind: ChartProps['xKind'], x: number): string =>
  xKind === 'day' ? dayOf(x) : `${String(x).padStart(2, '0')}:00`;

function options(props: ChartProps, width: number): uPlot.Options {
  const onRight = new Set(props.right?.series ?? []);
  const axes: uPlot.Axis[] = [
    props.xKind === 'day'
      ? { label: props.xLabel ?? 'Day', incrs: DAY_STEPS, values: (_u, ticks) => ticks.map(dayOf), space: 90 }
      : { label: props.xLabel ?? 'Local hour', values: (_u, ticks) => ticks.map((t) => String(t)) },
    { label: props.leftLabel, scale: 'left', size: 64 },
  ];
  if (props.right)
    axes.push({ label: props.right.label, scale: 'right', side: 1, grid: { show: false }, size: 64 });
  return {
    width,
    height: 260,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    scales: {
      x:
        props.xKind === 'day'
          ? // Half a day either side: a single day is not a zero-width axis, and no point sits on the edge.
            { time: true, range: (_u, min, max) => [min - HALF_DAY, max + HALF_DAY] }
          : { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
    },
    series: [
      {
        label: props.xKind === 'day' ? 'Day' : 'Hour',
        value: (_u, v) => (v === null ? '—' : xText(props.xKind, v)),
      },
      ...props.data.series.map((s, i) => ({
        label: s.label,
        scale: onRight.has(s.label) ? 'right' : 'left',
        stroke: COLORS[i % COLORS.length],
        width: 2,
        points: { show: props.data.x.length <= 60 },
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? '—' : decimal(v, props.digits ?? 2)),
      })),
    ],
    axes,
  };
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const points = pointCount(props.data);
  useEffect(() => {
    const element = box.current;
    if (!element || points === 0) return undefined;
    const width = (): number => Math.max(320, element.clientWidth);
    const aligned = [props.data.x, ...props.data.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(options(props, width()), aligned, element);
    const resize = (): void => plot.setSize({ width: width(), height: 260 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [props.data, props.xKind, points]);
  const titleId = `${props.id}-title`;
  return (
    <figure class="chart" data-chart={props.id} data-points={points} aria-labelledby={titleId}>
      <figcaption id={titleId}>{props.title}</figcaption>
      {points === 0 ? (
        <p class="empty">No data in this range.</p>
      ) : (
        <div
          ref={box}
          class="plot"
          role="img"
          aria-label={`${props.title}: ${props.data.series.map((s) => s.label).join(', ')} over ${props.data.x.length} ${props.xKind === 'day' ? 'days' : 'hours'}; the values are in the table below`}
        />
      )}
      <details>
        <summary>Data of “{props.title}”</summary>
        <table class="data">
          <thead>
            <tr>
              <th scope="col">{props.xKind === 'day' ? 'Day' : 'Hour'}</th>
              {props.data.series.map((s) => (
                <th scope="col" key={s.label}>
                  {s.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.data.x.map((x, i) => (
              <tr key={x}>
                <th scope="row">{xText(props.xKind, x)}</th>
                {props.data.series.map((s) => (
                  <td key={s.label} data-value={s.values[i] ?? ''}>
                    {decimal(s.values[i], props.digits ?? 2)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
