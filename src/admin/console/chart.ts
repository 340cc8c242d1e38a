import type { MigrationStatus } from '../library/migration.ts';

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  day: string;
  count: number;
}

/** Geometry of the per-day migrations chart, in the SVG's own units (drawn by views/console/migration.ejs). */
export function perDayChart(perDay: MigrationStatus['perDay'], size = { width: 600, height: 180, left: 36, bottom: 22, top: 8 }) {
  const max = Math.max(1, ...perDay.map((day) => day.count));
  // A round top value so the axis reads well: 1, 2, 5, 10, 20, 50, …
  const step =
    [1, 2, 5]
      .flatMap((n) => [n, n * 10, n * 100, n * 1000, n * 10000])
      .sort((a, b) => a - b)
      .find((n) => n >= max) ?? max;
  const plot = { width: size.width - size.left, height: size.height - size.bottom - size.top };
  const slot = plot.width / Math.max(1, perDay.length);
  const bars: Bar[] = perDay.map((day, index) => {
    const height = day.count === 0 ? 0 : Math.max(2, (day.count / step) * plot.height);
    return {
      x: round(size.left + index * slot + slot * 0.15),
      y: round(size.top + plot.height - height),
      width: round(slot * 0.7),
      height: round(height),
      day: day.day,
      count: day.count,
    };
  });
  const labels = perDay
    .map((day, index) => ({ day, index }))
    .filter(({ index }) => (perDay.length - 1 - index) % 7 === 0) // today, and every week back
    .map(({ day, index }) => ({ x: round(size.left + index * slot + slot / 2), text: day.day.slice(5) }));
  return { ...size, bars, labels, top: step, baseline: size.top + plot.height, plotTop: size.top, total: perDay.reduce((sum, day) => sum + day.count, 0) };
}

/** Width of the progress bar's filled part, in percent of the track. */
export function progressWidth(progress: number | null): number {
  return progress === null ? 0 : Math.max(0, Math.min(100, progress));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
