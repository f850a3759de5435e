// The organization's settings: security and sessions, the trash window,
// the analytics privacy policy, data-subject request approval, quotas, and
// single sign-on providers with the transfer bases they may need.
import { useEffect, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useFormat, useLanguage, useT } from '../../../app/i18n.tsx';
import { Form } from '../../../ui/Form.tsx';
import { CheckboxField, SelectField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import { SsoProviders, TransferBases } from '../components/SsoAndTransfers.tsx';
import { useResource } from '../use-resource.ts';
import '../admin.css';
import './settings-quotas.css';

const DOMAIN = /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/;
const int = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : NaN);
const within = (v: string, min: number, max: number) => { const n = int(v); return Number.isInteger(n) && n >= min && n <= max; };
export const domainList = (v: string) => v.split(/[\s,]+/).map((d) => d.trim().toLowerCase()).filter(Boolean);

export default function SettingsPage() {
  const t = useT();
  const [saved, setSaved] = useState<string | null>(null);
  return (
    <AdminPage title={t('admin.settings.title')} intro={t('admin.settings.intro')}>
      {saved && <Notice kind="ok" testId="settings-saved">{saved}</Notice>}
      <TenantSettings onSaved={setSaved} />
      <AnalyticsSettings onSaved={setSaved} />
      <DsarSettings onSaved={setSaved} />
      <QuotaSettings />
      <SsoProviders />
      <TransferBases />
    </AdminPage>
  );
}

function TenantSettings({ onSaved }: { onSaved: (m: string) => void }) {
  const t = useT();
  const tenant = useResource(() => call(api.GET('/api/v1/tenant')), []);
  const [f, setF] = useState({ name: '', securityLevel: 'standard', twoFactor: 'optional', idle: '', absolute: '', trash: '', domains: '' });
  useEffect(() => {
    const d = tenant.data;
    if (d) setF({ name: d.name, securityLevel: d.securityLevel, twoFactor: d.settings.twoFactor, idle: String(d.settings.sessionIdleMinutes), absolute: String(d.settings.sessionAbsoluteHours), trash: String(d.settings.trashRetentionDays), domains: d.settings.allowedEmailDomains.join(', ') });
  }, [tenant.data]);
  return (
    <Section title={t('admin.settings.organization')}>
      {tenant.loading && <Loading />}
      {tenant.error && <Failure error={tenant.error} retry={tenant.reload} />}
      {tenant.data && (
        <Form label={t('admin.settings.organization')} submitLabel={t('admin.save')} className="admin-grid"
          validate={() => ({
            name: f.name.trim() ? undefined : t('admin.error.required'),
            sessionIdleMinutes: within(f.idle, 5, 10080) ? undefined : t('admin.error.range', { min: 5, max: 10080 }),
            sessionAbsoluteHours: within(f.absolute, 1, 720) ? undefined : t('admin.error.range', { min: 1, max: 720 }),
            trashRetentionDays: within(f.trash, 1, 365) ? undefined : t('admin.error.range', { min: 1, max: 365 }),
            allowedEmailDomains: domainList(f.domains).every((d) => DOMAIN.test(d)) ? undefined : t('admin.error.domains'),
          })}
          onSubmit={async () => {
            const updated = await call(api.PATCH('/api/v1/tenant', {
              body: {
                name: f.name.trim(), securityLevel: f.securityLevel as 'standard' | 'high',
                settings: { twoFactor: f.twoFactor as 'optional' | 'admins' | 'all', sessionIdleMinutes: int(f.idle), sessionAbsoluteHours: int(f.absolute), trashRetentionDays: int(f.trash), allowedEmailDomains: domainList(f.domains) },
              },
            }));
            tenant.set(() => updated);
            onSaved(t('admin.settings.saved'));
          }}>
          <TextField label={t('admin.settings.name')} name="name" value={f.name} onChange={(e) => setF({ ...f, name: e.target.value })} />
          <SelectField label={t('admin.settings.securityLevel')} name="securityLevel" value={f.securityLevel} onChange={(e) => setF({ ...f, securityLevel: e.target.value })}
            hint={t('admin.settings.securityLevelHint')} options={['standard', 'high'].map((v) => ({ value: v, label: t(`admin.settings.securityLevel.${v}`) }))} />
          <SelectField label={t('admin.settings.twoFactor')} name="twoFactor" value={f.twoFactor} onChange={(e) => setF({ ...f, twoFactor: e.target.value })}
            options={['optional', 'admins', 'all'].map((v) => ({ value: v, label: t(`admin.settings.twoFactor.${v}`) }))} />
          <TextField label={t('admin.settings.idle')} name="sessionIdleMinutes" inputMode="numeric" value={f.idle} onChange={(e) => setF({ ...f, idle: e.target.value })} />
          <TextField label={t('admin.settings.absolute')} name="sessionAbsoluteHours" inputMode="numeric" value={f.absolute} onChange={(e) => setF({ ...f, absolute: e.target.value })} />
          <TextField label={t('admin.settings.trash')} name="trashRetentionDays" inputMode="numeric" value={f.trash} hint={t('admin.settings.trashHint')} onChange={(e) => setF({ ...f, trash: e.target.value })} />
          <TextField label={t('admin.settings.domains')} name="allowedEmailDomains" value={f.domains} hint={t('admin.settings.domainsHint')} onChange={(e) => setF({ ...f, domains: e.target.value })} />
        </Form>
      )}
    </Section>
  );
}

function AnalyticsSettings({ onSaved }: { onSaved: (m: string) => void }) {
  const t = useT();
  const settings = useResource(() => call(api.GET('/api/v1/analytics/settings')), []);
  const [f, setF] = useState({ ipMode: 'none', mask: '16', ipDays: '', sessionDays: '90', dnt: true, ua: false });
  useEffect(() => {
    const d = settings.data;
    if (d) setF({ ipMode: d.ipMode, mask: String(d.ipv4MaskBits), ipDays: d.ipRetentionDays == null ? '' : String(d.ipRetentionDays), sessionDays: String(d.sessionRetentionDays), dnt: d.honorDoNotTrack, ua: d.storeUserAgent });
  }, [settings.data]);
  return (
    <Section title={t('admin.analytics.title')}>
      <p className="admin-muted">{t('admin.analytics.intro')}</p>
      {settings.loading && <Loading />}
      {settings.error && <Failure error={settings.error} retry={settings.reload} />}
      {settings.data && (
        <Form label={t('admin.analytics.title')} submitLabel={t('admin.save')} className="admin-grid"
          validate={() => ({
            ipRetentionDays: f.ipMode === 'full' ? (within(f.ipDays, 1, 365) ? undefined : t('admin.analytics.error.ipDays')) : undefined,
            sessionRetentionDays: within(f.sessionDays, 1, 730) ? undefined : t('admin.error.range', { min: 1, max: 730 }),
          })}
          onSubmit={async () => {
            const updated = await call(api.PUT('/api/v1/analytics/settings', {
              body: {
                ipMode: f.ipMode as 'none' | 'masked' | 'full', ipv4MaskBits: f.mask === '24' ? 24 : 16,
                ipRetentionDays: f.ipMode === 'none' ? null : f.ipDays.trim() ? int(f.ipDays) : null,
                sessionRetentionDays: int(f.sessionDays), honorDoNotTrack: f.dnt, storeUserAgent: f.ua,
              },
            }));
            settings.set(() => updated);
            onSaved(t('admin.analytics.saved'));
          }}>
          <SelectField label={t('admin.analytics.ipMode')} name="ipMode" value={f.ipMode} onChange={(e) => setF({ ...f, ipMode: e.target.value })}
            options={['none', 'masked', 'full'].map((v) => ({ value: v, label: t(`admin.analytics.ipMode.${v}`) }))} />
          {f.ipMode === 'masked' && (
            <SelectField label={t('admin.analytics.mask')} name="ipv4MaskBits" value={f.mask} onChange={(e) => setF({ ...f, mask: e.target.value })}
              options={[{ value: '16', label: '/16' }, { value: '24', label: '/24' }]} />
          )}
          {f.ipMode !== 'none' && (
            <TextField label={t('admin.analytics.ipDays')} name="ipRetentionDays" inputMode="numeric" value={f.ipDays} onChange={(e) => setF({ ...f, ipDays: e.target.value })} />
          )}
          <TextField label={t('admin.analytics.sessionDays')} name="sessionRetentionDays" inputMode="numeric" value={f.sessionDays} onChange={(e) => setF({ ...f, sessionDays: e.target.value })} />
          <CheckboxField label={t('admin.analytics.dnt')} name="honorDoNotTrack" checked={f.dnt} onChange={(e) => setF({ ...f, dnt: e.target.checked })} />
          <CheckboxField label={t('admin.analytics.ua')} name="storeUserAgent" checked={f.ua} onChange={(e) => setF({ ...f, ua: e.target.checked })} />
        </Form>
      )}
    </Section>
  );
}

function DsarSettings({ onSaved }: { onSaved: (m: string) => void }) {
  const t = useT();
  const settings = useResource(() => call(api.GET('/api/v1/privacy/dsar-settings')), []);
  const [f, setF] = useState({ approval: false, mb: '0' });
  useEffect(() => {
    const d = settings.data;
    if (d) setF({ approval: d.requireApproval, mb: String(Math.round(d.exportMediaLimitBytes / 1_000_000)) });
  }, [settings.data]);
  return (
    <Section title={t('admin.dsarSettings.title')}>
      {settings.loading && <Loading />}
      {settings.error && <Failure error={settings.error} retry={settings.reload} />}
      {settings.data && (
        <Form label={t('admin.dsarSettings.title')} submitLabel={t('admin.save')} className="admin-grid"
          validate={() => ({ exportMediaLimitBytes: within(f.mb, 0, 107_374) ? undefined : t('admin.error.range', { min: 0, max: 107374 }) })}
          onSubmit={async () => {
            const updated = await call(api.PATCH('/api/v1/privacy/dsar-settings', { body: { requireApproval: f.approval, exportMediaLimitBytes: int(f.mb) * 1_000_000 } }));
            settings.set(() => updated);
            onSaved(t('admin.dsarSettings.saved'));
          }}>
          <CheckboxField label={t('admin.dsarSettings.approval')} name="requireApproval" hint={t('admin.dsarSettings.approvalHint')} checked={f.approval} onChange={(e) => setF({ ...f, approval: e.target.checked })} />
          <TextField label={t('admin.dsarSettings.mediaLimit')} name="exportMediaLimitBytes" inputMode="numeric" value={f.mb} hint={t('admin.dsarSettings.mediaLimitHint')} onChange={(e) => setF({ ...f, mb: e.target.value })} />
        </Form>
      )}
    </Section>
  );
}

/** Media limits are the platform operator's to set (PUT /api/v1/platform/tenants/{id}/quotas); admins see them and the usage. */
function QuotaSettings() {
  const t = useT();
  const format = useFormat();
  const { language } = useLanguage();
  const quotas = useResource(() => call(api.GET('/api/v1/tenant/quotas')), []);
  const q = quotas.data;
  const used = q ? q.usage.storedBytes + q.usage.uploadingBytes : 0;
  const duration = (seconds: number) => {
    const [value, unit] = seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
    return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
  };
  const source = (s: 'tenant' | 'default') => <span className={`admin-badge admin-quota-source-${s}`}>{t(`admin.quotas.source.${s}`)}</span>;
  return (
    <Section title={t('admin.settings.quotas')}>
      <p className="admin-muted" data-testid="quotas-note">{t('admin.quotas.intro')}</p>
      {quotas.loading && <Loading />}
      {quotas.error && <Failure error={quotas.error} retry={quotas.reload} />}
      {q && (
        <dl className="admin-dl admin-quotas" data-testid="quotas">
          <div className="admin-dl-row">
            <dt id="quota-storage">{t('admin.quotas.storage')}</dt>
            <dd>
              <span data-testid="quota-storage">{t('admin.quotas.storageUsed', {
                used: format.bytes(used), limit: format.bytes(q.storageBytes.value),
                percent: new Intl.NumberFormat(language, { style: 'percent', maximumFractionDigits: 1 }).format(q.storageBytes.value ? used / q.storageBytes.value : 0),
              })}</span>{' '}
              {source(q.storageBytes.source)}
              <meter className="admin-quota-meter" aria-labelledby="quota-storage" min={0} max={q.storageBytes.value} value={Math.min(used, q.storageBytes.value)}
                low={q.storageBytes.value * 0.8} high={q.storageBytes.value * 0.95} optimum={0} />
              <span className="admin-muted" data-testid="quota-usage">{t('admin.quotas.usageDetail', { stored: format.bytes(q.usage.storedBytes), uploading: format.bytes(q.usage.uploadingBytes) })}</span>
            </dd>
          </div>
          <div className="admin-dl-row">
            <dt>{t('admin.quotas.maxFile')}</dt>
            <dd><span data-testid="quota-max-file">{format.bytes(q.maxFileBytes.value)}</span> {source(q.maxFileBytes.source)}</dd>
          </div>
          <div className="admin-dl-row">
            <dt>{t('admin.quotas.maxDuration')}</dt>
            <dd><span data-testid="quota-max-duration">{duration(q.maxDurationSeconds.value)}</span> {source(q.maxDurationSeconds.source)}</dd>
          </div>
          {q.updatedAt && (
            <div className="admin-dl-row">
              <dt>{t('admin.quotas.updatedAt')}</dt>
              <dd>{format.dateTime(q.updatedAt)}</dd>
            </div>
          )}
        </dl>
      )}
    </Section>
  );
}
