// Views and watch time per day (uPlot charts, loaded only with this tab),
// geography and devices as tables with bars, and the CSV export.
import { useEffect, useRef, useState } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, call } from '../../../api/client.ts';
import { useFormat, useLanguage, useT } from '../../../app/i18n.tsx';
import { ErrorView, Loading, Section, TextField, useAsync } from '../../../ui/index.ts';
import type { VideoAnalytics } from '../types.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

function Chart({ title, days, values, unit }: { title: string; days: string[]; values: number[]; unit: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const { language } = useLanguage();
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const width = Math.max(280, el.clientWidth || 600);
    const plot = new uPlot({
      width, height: 220, title: undefined,
      scales: { x: { time: true } },
      axes: [{ values: (_u, ticks) => ticks.map((s) => new Intl.DateTimeFormat(language, { month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(s * 1000))) }, { label: unit }],
      series: [{}, { label: title, stroke: '#1d4ed8', fill: 'rgba(29,78,216,0.12)', width: 2 }],
      legend: { show: false },
    }, [xs, values], el);
    const resize = () => plot.setSize({ width: Math.max(280, el.clientWidth), height: 220 });
    window.addEventListener('resize', resize);
    return () => { window.removeEventListener('resize', resize); plot.destroy(); };
  }, [days, values, title, unit, language]);
  return <figure className="lib-chart"><figcaption>{title}</figcaption><div ref={ref} role="img" aria-label={title} /></figure>;
}

function Bars({ caption, rows, nameLabel, format }: { caption: string; rows: [string, number][]; nameLabel: string; format: (n: number) => string }) {
  const t = useT();
  const max = Math.max(1, ...rows.map(([, n]) => n));
  if (!rows.length) return <p>{t('library.analytics.noData', { what: caption })}</p>;
  return (
    <table className="lib-table lib-bars">
      <caption>{caption}</caption>
      <thead><tr><th scope="col">{nameLabel}</th><th scope="col">{t('library.analytics.views')}</th></tr></thead>
      <tbody>
        {rows.map(([name, n]) => (
          <tr key={name}>
            <th scope="row">{name}</th>
            <td><meter min={0} max={max} value={n} aria-hidden="true" className="lib-meter" /> {format(n)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const sorted = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).slice(0, 15);

export default function AnalyticsPanel({ videoId }: { videoId: string }) {
  const t = useT();
  const format = useFormat();
  const { language } = useLanguage();
  const [to, setTo] = useState(() => day(new Date()));
  const [from, setFrom] = useState(() => day(new Date(Date.now() - 29 * 86_400_000)));
  const valid = /^\d{4}-\d{2}-\d{2}$/.test(from) && /^\d{4}-\d{2}-\d{2}$/.test(to) && from <= to;
  const data = useAsync<VideoAnalytics | undefined>(
    () => (valid ? call(api.GET('/api/v1/analytics/videos/{id}', { params: { path: { id: videoId }, query: { from, to } } })) : Promise.resolve(undefined)),
    [videoId, from, to],
  );
  const region = new Intl.DisplayNames([language], { type: 'region' });
  const country = (code: string) => { try { return region.of(code) ?? code; } catch { return code; } };
  const a = data.data;
  return (
    <div className="lib-stack">
      <Section title={t('library.analytics.title')}>
        <div className="lib-row">
          <TextField label={t('library.analytics.from')} type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} />
          <TextField label={t('library.analytics.to')} type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} error={valid ? undefined : t('library.analytics.rangeInvalid')} />
        </div>
        <p><a className="btn btn-secondary" href={`/api/v1/analytics/export.csv?from=${from}&to=${to}`} download>{t('library.analytics.export')}</a></p>
      </Section>
      {data.error ? <ErrorView error={data.error} onRetry={data.reload} /> : data.loading && !a ? <Loading /> : a ? (
        <>
          <dl className="lib-totals">
            <div><dt>{t('library.analytics.views')}</dt><dd>{format.number(a.totals.views)}</dd></div>
            <div><dt>{t('library.analytics.unique')}</dt><dd>{format.number(a.totals.uniqueViewersEstimate)}</dd></div>
            <div><dt>{t('library.analytics.watchTime')}</dt><dd>{t('library.analytics.minutes', { n: format.number(Math.round(a.totals.watchSeconds / 60)) })}</dd></div>
            <div><dt>{t('library.analytics.completion')}</dt><dd>{format.number(Math.round(a.totals.completionRate * 100))} %</dd></div>
          </dl>
          <Chart title={t('library.analytics.viewsPerDay')} days={a.days.map((d) => d.day)} values={a.days.map((d) => d.views)} unit={t('library.analytics.views')} />
          <Chart title={t('library.analytics.watchPerDay')} days={a.days.map((d) => d.day)} values={a.days.map((d) => Math.round(d.watchSeconds / 60))} unit={t('library.analytics.minutesUnit')} />
          <div className="lib-grid-2">
            <Bars caption={t('library.analytics.geography')} nameLabel={t('library.analytics.country')} rows={sorted(a.countries).map(([c, n]) => [country(c), n])} format={format.number} />
            <Bars caption={t('library.analytics.devices')} nameLabel={t('library.analytics.device')} rows={sorted(a.devices.classes)} format={format.number} />
            <Bars caption={t('library.analytics.os')} nameLabel={t('library.analytics.system')} rows={sorted(a.devices.os)} format={format.number} />
            <Bars caption={t('library.analytics.browsers')} nameLabel={t('library.analytics.browser')} rows={sorted(a.devices.browsers)} format={format.number} />
          </div>
        </>
      ) : null}
    </div>
  );
}
