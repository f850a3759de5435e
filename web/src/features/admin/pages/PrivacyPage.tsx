// The privacy center: data-subject requests (states, deadlines, decisions,
// results, export links), the data map, the record of processing, and the
// subprocessors with where personal data goes.
import { type ReactNode, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Form } from '../../../ui/Form.tsx';
import { SelectField, TextAreaField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { Tabs } from '../../../ui/Tabs.tsx';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import { asApiError, type Resource, useResource } from '../use-resource.ts';
import '../admin.css';

const states = ['identity_unverified', 'pending', 'approved', 'in_processing', 'complete', 'denied', 'error'] as const;
const types = ['access', 'erasure', 'rectification', 'restriction'] as const;
type State = (typeof states)[number];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const loadRecord = () => call(api.GET('/api/v1/privacy/records', { params: { query: {} } }));
type Record = Awaited<ReturnType<typeof loadRecord>>;

export default function PrivacyPage() {
  const t = useT();
  const [tab, setTab] = useState('requests');
  const record = useResource(loadRecord, []);
  return (
    <AdminPage title={t('admin.privacy.title')} intro={t('admin.privacy.intro')}>
      <Tabs label={t('admin.privacy.title')} active={tab} onChange={setTab} tabs={[
        { id: 'requests', label: t('admin.privacy.tab.requests'), content: <Requests /> },
        { id: 'datamap', label: t('admin.privacy.tab.datamap'), content: <WithRecord record={record} show={(r) => <DataMap record={r} />} /> },
        { id: 'records', label: t('admin.privacy.tab.records'), content: <WithRecord record={record} show={(r) => <RecordOfProcessing record={r} />} /> },
        { id: 'subprocessors', label: t('admin.privacy.tab.subprocessors'), content: <WithRecord record={record} show={(r) => <Subprocessors record={r} />} /> },
      ]} />
    </AdminPage>
  );
}

function WithRecord({ record, show }: { record: Resource<Record>; show: (r: Record) => ReactNode }) {
  if (record.loading) return <Loading />;
  if (record.error) return <Failure error={record.error} retry={record.reload} />;
  return record.data ? <>{show(record.data)}</> : null;
}

function Requests() {
  const t = useT();
  const fmt = useFormat();
  const [filter, setFilter] = useState<State | ''>('');
  const requests = useResource(() => call(api.GET('/api/v1/privacy/tenant-requests', { params: { query: filter ? { state: filter } : {} } })), [filter]);
  const [intake, setIntake] = useState({ email: '', type: 'access' as (typeof types)[number], note: '' });
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [denying, setDenying] = useState<string | null>(null);
  const [reason, setReason] = useState('');
  const [links, setLinks] = useState<Record2<{ url: string; expiresAt: string }>>({});
  const act = async (work: () => Promise<void>) => {
    setMessage(null);
    try { await work(); } catch (err) { setMessage({ kind: 'error', text: errorText(asApiError(err)) }); }
  };

  return (
    <>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      <Section title={t('admin.dsar.file')}>
        <p className="admin-muted">{t('admin.dsar.fileIntro')}</p>
        <Form label={t('admin.dsar.file')} submitLabel={t('admin.dsar.submit')} className="admin-grid"
          validate={() => ({ email: EMAIL.test(intake.email.trim()) ? undefined : t('admin.error.email'), note: intake.type === 'rectification' && !intake.note.trim() ? t('admin.dsar.error.note') : undefined })}
          onSubmit={async () => {
            const created = await call(api.POST('/api/v1/privacy/tenant-requests', { body: { email: intake.email.trim(), type: intake.type, note: intake.note.trim() || undefined } }));
            setMessage({ kind: 'ok', text: t('admin.dsar.filed', { email: created.subjectEmail, due: fmt.date(created.dueAt) }) });
            setIntake({ email: '', type: 'access', note: '' });
            requests.reload();
          }}>
          <TextField label={t('admin.dsar.email')} name="email" type="email" autoComplete="off" value={intake.email} onChange={(e) => setIntake({ ...intake, email: e.target.value })} />
          <SelectField label={t('admin.dsar.type')} name="type" value={intake.type} onChange={(e) => setIntake({ ...intake, type: e.target.value as (typeof types)[number] })}
            options={types.map((v) => ({ value: v, label: t(`admin.dsar.type.${v}`) }))} />
          <TextAreaField label={t('admin.dsar.note')} name="note" value={intake.note} onChange={(e) => setIntake({ ...intake, note: e.target.value })} />
        </Form>
      </Section>

      <Section title={t('admin.dsar.requests')} actions={<Button onClick={requests.reload}>{t('admin.refresh')}</Button>}>
        <div className="admin-field admin-inline">
          <label htmlFor="dsar-state">{t('admin.dsar.filterState')}</label>
          <select id="dsar-state" value={filter} onChange={(e) => setFilter(e.target.value as State | '')}>
            <option value="">{t('admin.any')}</option>
            {states.map((s) => <option key={s} value={s}>{t(`admin.dsar.state.${s}`)}</option>)}
          </select>
        </div>
        {requests.loading && <Loading />}
        {requests.error && <Failure error={requests.error} retry={requests.reload} />}
        {requests.data && requests.data.items.length === 0 && <p>{t('admin.dsar.none')}</p>}
        {requests.data && requests.data.items.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.dsar.requests')}>
            <table className="admin-table" data-testid="dsar-table">
              <thead><tr>
                <th scope="col">{t('admin.dsar.col.subject')}</th><th scope="col">{t('admin.dsar.type')}</th><th scope="col">{t('admin.users.col.status')}</th>
                <th scope="col">{t('admin.dsar.col.received')}</th><th scope="col">{t('admin.dsar.col.due')}</th><th scope="col">{t('admin.dsar.col.result')}</th><th scope="col">{t('admin.users.col.actions')}</th>
              </tr></thead>
              <tbody>
                {requests.data.items.map((r) => {
                  const rowId = `dsar-${r.id}`;
                  const link = links[r.id];
                  return (
                    <tr key={r.id} data-request={r.id}>
                      <td id={rowId}>{r.subjectEmail}<br /><span className="admin-muted">{t(`admin.dsar.channel`, { channel: r.channel })}</span>{r.note && <><br /><span className="admin-muted">{r.note}</span></>}</td>
                      <td>{t(`admin.dsar.type.${r.type}`)}</td>
                      <td><span className={`admin-badge admin-badge-${r.state}`} data-testid="dsar-state">{t(`admin.dsar.state.${r.state}`)}</span>{r.decisionReason && <><br /><span className="admin-muted">{r.decisionReason}</span></>}</td>
                      <td>{fmt.date(r.receivedAt)}</td>
                      <td>{fmt.date(r.dueAt)}{r.overdue && <> <span className="admin-badge admin-badge-overdue">{t('admin.dsar.overdue')}</span></>}</td>
                      <td>{r.completedAt ? (
                        <details>
                          <summary>{t('admin.dsar.completed', { at: fmt.dateTime(r.completedAt) })}</summary>
                          <pre className="admin-pre">{JSON.stringify(r.result, null, 2)}</pre>
                        </details>
                      ) : '—'}</td>
                      <td>
                        <span className="admin-actions">
                          {r.state === 'pending' && (
                            <>
                              <Button variant="primary" aria-describedby={rowId} onClick={() => act(async () => {
                                await call(api.POST('/api/v1/privacy/tenant-requests/{id}/approve', { params: { path: { id: r.id } }, body: {} }));
                                setMessage({ kind: 'ok', text: t('admin.dsar.approved', { email: r.subjectEmail }) });
                                requests.reload();
                              })}>{t('admin.dsar.approve')}</Button>
                              <Button variant="ghost" aria-describedby={rowId} onClick={() => { setDenying(r.id); setReason(''); }}>{t('admin.dsar.deny')}</Button>
                            </>
                          )}
                          {r.type === 'access' && r.state === 'complete' && (
                            <Button aria-describedby={rowId} onClick={() => act(async () => {
                              const l = await call(api.POST('/api/v1/privacy/tenant-requests/{id}/export-link', { params: { path: { id: r.id } } }));
                              // The one-time link is this site's download route; open it on the origin the admin uses (the server builds it from publicUrl or its configured port).
                              const u = new URL(l.url, location.origin);
                              setLinks((m) => ({ ...m, [r.id]: { url: `${u.pathname}${u.search}`, expiresAt: String(l.expiresAt) } }));
                            })}>{t('admin.dsar.newLink')}</Button>
                          )}
                          {link && <a className="btn btn-primary" href={link.url} download data-testid="dsar-download">{t('admin.dsar.download')}</a>}
                        </span>
                        {link && <p className="admin-muted">{t('admin.dsar.linkOnce', { at: fmt.dateTime(link.expiresAt) })}</p>}
                        {denying === r.id && (
                          <Form label={t('admin.dsar.deny')} submitLabel={t('admin.dsar.deny')} submitVariant="danger"
                            secondary={<Button variant="ghost" onClick={() => setDenying(null)}>{t('admin.cancel')}</Button>}
                            validate={() => ({ reason: reason.trim().length >= 3 ? undefined : t('admin.dsar.error.reason') })}
                            onSubmit={async () => {
                              await call(api.POST('/api/v1/privacy/tenant-requests/{id}/deny', { params: { path: { id: r.id } }, body: { reason: reason.trim() } }));
                              setDenying(null);
                              setMessage({ kind: 'ok', text: t('admin.dsar.denied', { email: r.subjectEmail }) });
                              requests.reload();
                            }}>
                            <TextAreaField label={t('admin.dsar.reason')} name="reason" value={reason} onChange={(e) => setReason(e.target.value)} />
                          </Form>
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
type Record2<V> = { [id: string]: V };

function DataMap({ record }: { record: Record }) {
  const t = useT();
  const describe = new Map(record.dataCategories.map((c) => [c.category, c.description]));
  return (
    <>
      <Section title={t('admin.datamap.activities')}>
        <p className="admin-muted">{t('admin.datamap.intro')}</p>
        <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.datamap.activities')}>
          <table className="admin-table" data-testid="datamap-table">
            <thead><tr><th scope="col">{t('admin.datamap.purpose')}</th><th scope="col">{t('admin.datamap.legalBases')}</th><th scope="col">{t('admin.datamap.categories')}</th><th scope="col">{t('admin.datamap.subjects')}</th><th scope="col">{t('admin.datamap.tables')}</th></tr></thead>
            <tbody>
              {record.activities.map((a) => (
                <tr key={a.purpose}>
                  <td>{a.purpose}</td><td>{a.legalBases.join(', ')}</td>
                  <td><ul className="admin-list">{a.dataCategories.map((c) => <li key={c}><code>{c}</code></li>)}</ul></td>
                  <td>{a.dataSubjects.join(', ')}</td><td>{a.tables.join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title={t('admin.datamap.categoryList')}>
        <dl className="admin-dl">
          {[...describe].map(([c, d]) => <div key={c} className="admin-dl-row"><dt><code>{c}</code></dt><dd>{d}</dd></div>)}
        </dl>
      </Section>
    </>
  );
}

function RecordOfProcessing({ record }: { record: Record }) {
  const t = useT();
  const fmt = useFormat();
  const party = (p: Record['controller']) => (p ? [p.name, p.contact, p.dpo && `${t('admin.records.dpo')}: ${p.dpo}`].filter(Boolean).join(' · ') : '—');
  return (
    <>
      <Section title={t('admin.records.title')}>
        <dl className="admin-dl" data-testid="record">
          <dt>{t('admin.records.generated')}</dt><dd>{fmt.dateTime(record.generatedAt)}</dd>
          <dt>{t('admin.records.controller')}</dt><dd>{party(record.controller)}</dd>
          <dt>{t('admin.records.processor')}</dt><dd>{party(record.processor)}</dd>
          {record.tenant && <><dt>{t('admin.records.region')}</dt><dd>{record.tenant.region} ({record.tenant.jurisdiction})</dd></>}
          <dt>{t('admin.records.jurisdictions')}</dt><dd>{record.jurisdictions.join(', ')}</dd>
        </dl>
      </Section>
      <Section title={t('admin.records.subjects')}>
        <ul className="admin-list">{record.dataSubjects.map((s) => <li key={s.kind}><strong>{s.kind}</strong>: {s.description}</li>)}</ul>
      </Section>
      <Section title={t('admin.records.retention')}>
        <dl className="admin-dl">
          {Object.entries(record.retention.settings).map(([k, v]) => <div key={k} className="admin-dl-row"><dt>{k}</dt><dd>{v ?? '—'}</dd></div>)}
        </dl>
        <ul className="admin-list">{record.retention.rules.map((r) => <li key={r.table}><code>{r.table}</code>: {r.rule}</li>)}</ul>
      </Section>
      <Section title={t('admin.records.security')}>
        <ul className="admin-list">{record.securityMeasures.map((m) => <li key={m}>{m}</li>)}</ul>
      </Section>
    </>
  );
}

function Subprocessors({ record }: { record: Record }) {
  const t = useT();
  return (
    <>
      <Section title={t('admin.subprocessors.title')}>
        {record.recipients.length === 0 ? <p>{t('admin.subprocessors.none')}</p> : (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.subprocessors.title')}>
            <table className="admin-table" data-testid="subprocessors-table">
              <thead><tr><th scope="col">{t('admin.transfers.subprocessor')}</th><th scope="col">{t('admin.datamap.purpose')}</th><th scope="col">{t('admin.subprocessors.location')}</th><th scope="col">{t('admin.transfers.features')}</th><th scope="col">{t('admin.datamap.categories')}</th></tr></thead>
              <tbody>
                {record.recipients.map((r) => (
                  <tr key={r.name}><td>{r.name}</td><td>{r.purpose}</td><td>{r.location} ({r.jurisdiction})</td><td>{r.features.join(', ')}</td><td>{r.dataCategories.join(', ')}</td></tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      <Section title={t('admin.residency.title')}>
        <p className="admin-muted">{t('admin.residency.intro')}</p>
        {record.transfers.length === 0 ? <p data-testid="residency-none">{t('admin.residency.none', { jurisdiction: record.tenant?.jurisdiction ?? record.jurisdictions.join(', ') })}</p> : (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.residency.title')}>
            <table className="admin-table">
              <thead><tr><th scope="col">{t('admin.transfers.subprocessor')}</th><th scope="col">{t('admin.residency.fromTo')}</th><th scope="col">{t('admin.transfers.features')}</th><th scope="col">{t('admin.transfers.basis')}</th></tr></thead>
              <tbody>
                {record.transfers.map((x) => (
                  <tr key={x.subprocessor}>
                    <td>{x.subprocessor}</td><td>{x.from} → {x.to} ({x.location})</td><td>{x.features.join(', ')}</td>
                    <td><span className={`admin-badge admin-badge-${x.status}`}>{x.status === 'covered' ? `${x.basis} (${t(`admin.transfers.source.${x.basisSource ?? 'tenant'}`)})` : t('admin.transfers.missing')}</span></td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
    </>
  );
}
