// The backups overview for platform operators: schedule, tier lifetimes,
// every backup with its size, and any broken or interrupted one. Making,
// verifying and restoring backups stay with `haven backup` on the server.
import { request } from '../../../api/client.ts';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Section } from '../../../ui/Page.tsx';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import { useResource } from '../use-resource.ts';
import '../admin.css';

/** GET /api/v1/platform/backups (src/modules/privacy/backup/routes.ts). */
interface BackupsOverview {
  schedule: string;
  retention: { hourlyHours: number; dailyDays: number; weeklyDays: number };
  backups: { id: string; tier: 'hourly' | 'daily' | 'weekly'; createdAt: string; expiresAt: string; size: number; objects: number }[];
  broken: { id: string; problem: string }[];
  incomplete: string[];
}

export default function BackupsPage() {
  const t = useT();
  const fmt = useFormat();
  const overview = useResource(async () => (await (await request('/api/v1/platform/backups', { headers: { accept: 'application/json' } })).json()) as BackupsOverview, []);
  const d = overview.data;
  return (
    <AdminPage title={t('admin.backups.title')} intro={t('admin.backups.intro')}>
      {overview.loading && <Loading />}
      {overview.error && <Failure error={overview.error} retry={overview.reload} />}
      {d && (
        <>
          <Section title={t('admin.backups.policy')} actions={<Button onClick={overview.reload}>{t('admin.refresh')}</Button>}>
            <dl className="admin-dl">
              <dt>{t('admin.backups.schedule')}</dt><dd>{d.schedule === 'off' ? t('admin.backups.off') : <code>{d.schedule}</code>}</dd>
              <dt>{t('admin.backups.tier.hourly')}</dt><dd>{t('admin.backups.keptHours', { n: d.retention.hourlyHours })}</dd>
              <dt>{t('admin.backups.tier.daily')}</dt><dd>{t('admin.backups.keptDays', { n: d.retention.dailyDays })}</dd>
              <dt>{t('admin.backups.tier.weekly')}</dt><dd>{t('admin.backups.keptDays', { n: d.retention.weeklyDays })}</dd>
            </dl>
          </Section>
          {(d.broken.length > 0 || d.incomplete.length > 0) && (
            <Notice kind="error" testId="backups-problems">
              {t('admin.backups.problems')}
              <ul className="admin-list">
                {d.broken.map((b) => <li key={b.id}><code>{b.id}</code>: {b.problem}</li>)}
                {d.incomplete.map((id) => <li key={id}><code>{id}</code>: {t('admin.backups.incomplete')}</li>)}
              </ul>
            </Notice>
          )}
          <Section title={t('admin.backups.list')}>
            {d.backups.length === 0 ? <p data-testid="backups-none">{t('admin.backups.none')}</p> : (
              <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.backups.list')}>
                <table className="admin-table" data-testid="backups-table">
                  <thead><tr><th scope="col">{t('admin.backups.id')}</th><th scope="col">{t('admin.backups.tier')}</th><th scope="col">{t('admin.backups.created')}</th><th scope="col">{t('admin.backups.expires')}</th><th scope="col">{t('admin.backups.size')}</th><th scope="col">{t('admin.backups.objects')}</th></tr></thead>
                  <tbody>
                    {d.backups.map((b) => (
                      <tr key={b.id}><td><code>{b.id}</code></td><td>{t(`admin.backups.tier.${b.tier}`)}</td><td>{fmt.dateTime(b.createdAt)}</td><td>{fmt.dateTime(b.expiresAt)}</td><td>{fmt.bytes(b.size)}</td><td>{fmt.number(b.objects)}</td></tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </Section>
        </>
      )}
    </AdminPage>
  );
}
