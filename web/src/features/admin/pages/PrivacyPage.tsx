// The privacy center: data-subject requests (states, deadlines, decisions,
// results, export links), the data map (every personal column, and the
// processing activities it sums up to), the record of processing, the
// subprocessors with where personal data goes, and for platform operators the
// residency report (where every stored object is).
import { type ReactNode, useId, useMemo, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
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
  const { platformRoles } = useSession();
  const operator = platformRoles.includes('operator');
  return (
    <AdminPage title={t('admin.privacy.title')} intro={t('admin.privacy.intro')}>
      <Tabs label={t('admin.privacy.title')} active={tab} onChange={setTab} tabs={[
        { id: 'requests', label: t('admin.privacy.tab.requests'), content: <Requests /> },
        { id: 'datamap', label: t('admin.privacy.tab.datamap'), content: <><DataMapColumns /><WithRecord record={record} show={(r) => <DataMap record={r} />} /></> },
        { id: 'records', label: t('admin.privacy.tab.records'), content: <WithRecord record={record} show={(r) => <RecordOfProcessing record={r} />} /> },
        { id: 'subprocessors', label: t('admin.privacy.tab.subprocessors'), content: <WithRecord record={record} show={(r) => <Subprocessors record={r} />} /> },
        ...(operator ? [{ id: 'residency', label: t('admin.privacy.tab.residency'), content: <ResidencyReport /> }] : []),
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

/** Every column that can hold personal data (GET /privacy/datamap), filterable by any of its words. */
function DataMapColumns() {
  const t = useT();
  const filterId = useId();
  const columns = useResource(() => call(api.GET('/api/v1/privacy/datamap')), []);
  const [filter, setFilter] = useState('');
  const rows = useMemo(() => {
    const words = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
    return (columns.data?.items ?? []).filter((r) => {
      const text = `${r.module} ${r.table} ${r.column} ${r.category} ${r.subject} ${r.purpose} ${r.legalBasis} ${r.retention} ${r.erasure}`.toLowerCase();
      return words.every((w) => text.includes(w));
    });
  }, [columns.data, filter]);
  return (
    <Section title={t('admin.datamap.columns')}>
      {columns.loading && <Loading />}
      {columns.error && <Failure error={columns.error} retry={columns.reload} />}
      {columns.data && (
        <>
          <p className="admin-muted">{t('admin.datamap.columnsIntro', { count: columns.data.items.length })}</p>
          <div className="admin-field admin-inline">
            <label htmlFor={filterId}>{t('admin.datamap.filter')}</label>
            <input id={filterId} type="search" value={filter} onChange={(e) => setFilter(e.target.value)} />
          </div>
          {rows.length === 0 ? <p>{t('admin.datamap.noMatch')}</p> : (
            <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.datamap.columns')}>
              <table className="admin-table" data-testid="datamap-columns">
                <thead><tr>
                  <th scope="col">{t('admin.datamap.col.table')}</th><th scope="col">{t('admin.datamap.col.column')}</th><th scope="col">{t('admin.datamap.col.category')}</th>
                  <th scope="col">{t('admin.datamap.col.subject')}</th><th scope="col">{t('admin.datamap.purpose')}</th><th scope="col">{t('admin.datamap.legalBases')}</th>
                  <th scope="col">{t('admin.datamap.col.retention')}</th><th scope="col">{t('admin.datamap.col.erasure')}</th>
                </tr></thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={`${r.table}.${r.column}`} data-column={`${r.table}.${r.column}`}>
                      <td><code>{r.table}</code></td><td><code>{r.column}</code></td><td><code>{r.category}</code></td><td>{r.subject}</td>
                      <td>{r.purpose}</td><td>{r.legalBasis}</td><td>{r.retention}</td>
                      <td>{t(`admin.datamap.erasure.${r.erasure}`)}{r.retainBasis && <><br /><span className="admin-muted">{r.retainBasis}</span></>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </Section>
  );
}

const RESIDENCY_ROWS = 500;

/** Platform operators: the residency report (GET /platform/residency), regions first, then the objects (flagged ones on request). */
function ResidencyReport() {
  const t = useT();
  const fmt = useFormat();
  const flaggedId = useId();
  const report = useResource(() => call(api.GET('/api/v1/platform/residency', { params: { query: {} } })), []);
  const [onlyFlagged, setOnlyFlagged] = useState(false);
  if (report.loading) return <Loading />;
  if (report.error) return <Failure error={report.error} retry={report.reload} />;
  if (!report.data) return null;
  const r = report.data;
  const objects = onlyFlagged ? r.objects.filter((o) => o.flag) : r.objects;
  const shown = objects.slice(0, RESIDENCY_ROWS);
  return (
    <>
      <Section title={t('admin.residencyReport.regions')} actions={<Button onClick={report.reload}>{t('admin.refresh')}</Button>}>
        <p className="admin-muted">{t('admin.residencyReport.intro')}</p>
        <p className="admin-muted">{t('admin.residencyReport.generated', { at: fmt.dateTime(r.generatedAt) })}</p>
        <p data-testid="residency-flagged"><span className={`admin-badge ${r.flagged ? 'admin-badge-basis_required' : 'admin-badge-covered'}`}>{t('admin.residencyReport.flagged', { count: r.flagged })}</span></p>
        <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.residencyReport.regions')}>
          <table className="admin-table" data-testid="residency-regions">
            <thead><tr>
              <th scope="col">{t('admin.residencyReport.col.region')}</th><th scope="col">{t('admin.residencyReport.col.jurisdiction')}</th><th scope="col">{t('admin.residencyReport.col.driver')}</th>
              <th scope="col">{t('admin.residencyReport.col.objects')}</th><th scope="col">{t('admin.residencyReport.col.bytes')}</th>
            </tr></thead>
            <tbody>
              {r.regions.map((g) => <tr key={g.region}><td>{g.region}</td><td>{g.jurisdiction}</td><td>{g.driver}</td><td>{fmt.number(g.objects)}</td><td>{fmt.bytes(g.bytes)}</td></tr>)}
            </tbody>
          </table>
        </div>
      </Section>
      <Section title={t('admin.residencyReport.objects')}>
        <div className="admin-field admin-inline">
          <input id={flaggedId} type="checkbox" checked={onlyFlagged} onChange={(e) => setOnlyFlagged(e.target.checked)} />
          <label htmlFor={flaggedId}>{t('admin.residencyReport.onlyFlagged')}</label>
        </div>
        {objects.length === 0 ? <p>{t('admin.residencyReport.none')}</p> : (
          <>
            {objects.length > shown.length && <p className="admin-muted">{t('admin.residencyReport.showing', { shown: fmt.number(shown.length), total: fmt.number(objects.length) })}</p>}
            <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.residencyReport.objects')}>
              <table className="admin-table" data-testid="residency-objects">
                <thead><tr>
                  <th scope="col">{t('admin.residencyReport.col.key')}</th><th scope="col">{t('admin.residencyReport.col.region')}</th><th scope="col">{t('admin.residencyReport.col.tenant')}</th>
                  <th scope="col">{t('admin.residencyReport.col.bytes')}</th><th scope="col">{t('admin.residencyReport.col.flag')}</th>
                </tr></thead>
                <tbody>
                  {shown.map((o) => (
                    <tr key={`${o.region}/${o.key}`}>
                      <td><code>{o.key}</code></td><td>{o.region} ({o.jurisdiction})</td>
                      <td>{o.tenantId === null ? t('admin.residencyReport.platform') : o.tenantSlug ? `${o.tenantSlug} (${o.tenantRegion}/${o.tenantJurisdiction})` : o.tenantId}</td>
                      <td>{fmt.bytes(o.size)}</td>
                      <td>{o.flag ? <span className="admin-badge admin-badge-basis_required">{t(`admin.residencyReport.flag.${o.flag}`)}</span> : '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </Section>
    </>
  );
}

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
