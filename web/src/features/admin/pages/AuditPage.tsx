// The audit log: the chain's verification status, a filtered search with
// cursor paging, and an export of a time range as NDJSON or CSV.
import { type FormEvent, type ReactElement, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { asApiError, useResource } from '../use-resource.ts';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import '../admin.css';

const outcomes = ['success', 'denied', 'failed'] as const;
const actorTypes = ['user', 'api_token', 'support_grant', 'system', 'anonymous'] as const;
type Scope = 'tenant' | 'platform';

interface Filters { from: string; to: string; actorId: string; actorType: string; action: string; targetType: string; targetId: string; outcome: string }
const noFilters: Filters = { from: '', to: '', actorId: '', actorType: '', action: '', targetType: '', targetId: '', outcome: '' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ACTION = /^[a-z][a-z0-9_.]*$/;

/** A datetime-local value (the browser's zone) as ISO 8601 with a zone; '' stays ''. */
const isoOf = (local: string) => (local ? new Date(local).toISOString() : '');
const localOf = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

function searchQuery(f: Filters, scope: Scope, cursor?: string): Record<string, string> {
  const q: Record<string, string> = { scope, limit: '50' };
  if (f.from) q.from = isoOf(f.from);
  if (f.to) q.to = isoOf(f.to);
  for (const key of ['actorId', 'actorType', 'action', 'targetType', 'targetId', 'outcome'] as const) if (f[key].trim()) q[key] = f[key].trim();
  if (cursor) q.cursor = cursor;
  return q;
}

async function search(f: Filters, scope: Scope, cursor?: string) {
  return call(api.GET('/api/v1/audit/events', { params: { query: searchQuery(f, scope, cursor) as { scope: Scope } } }));
}
type Entry = Awaited<ReturnType<typeof search>>['items'][number];

function validate(f: Filters, t: ReturnType<typeof useT>): Partial<Record<keyof Filters, string>> {
  const e: Partial<Record<keyof Filters, string>> = {};
  if (f.from && f.to && new Date(f.from) >= new Date(f.to)) e.to = t('admin.audit.error.range');
  if (f.actorId.trim() && !UUID.test(f.actorId.trim())) e.actorId = t('admin.audit.error.actorId');
  if (f.action.trim() && !ACTION.test(f.action.trim())) e.action = t('admin.audit.error.action');
  if (f.targetType.trim() && !/^[a-z][a-z0-9_]*$/.test(f.targetType.trim())) e.targetType = t('admin.audit.error.targetType');
  return e;
}

export default function AuditPage() {
  const t = useT();
  const fmt = useFormat();
  const { platformRoles } = useSession();
  const operator = platformRoles.includes('operator');
  const [scope, setScope] = useState<Scope>('tenant');
  const [draft, setDraft] = useState<Filters>(noFilters);
  const [applied, setApplied] = useState<Filters>(noFilters);
  const [errors, setErrors] = useState<Partial<Record<keyof Filters, string>>>({});
  const [more, setMore] = useState<{ items: Entry[]; cursor: string | null; loading: boolean; error?: string }>({ items: [], cursor: null, loading: false });

  const verify = useResource(() => call(api.GET('/api/v1/audit/verify', { params: { query: { scope } } })), [scope]);
  const results = useResource(async () => {
    const page = await search(applied, scope);
    setMore({ items: [], cursor: page.nextCursor, loading: false });
    return page;
  }, [applied, scope]);

  const onSearch = (e: FormEvent) => {
    e.preventDefault();
    const found = validate(draft, t);
    setErrors(found);
    if (Object.keys(found).length === 0) setApplied({ ...draft });
  };
  const loadMore = async () => {
    if (!more.cursor) return;
    setMore((m) => ({ ...m, loading: true, error: undefined }));
    try {
      const page = await search(applied, scope, more.cursor);
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.nextCursor, loading: false }));
    } catch (err) {
      setMore((m) => ({ ...m, loading: false, error: errorText(asApiError(err)) }));
    }
  };

  const field = (key: keyof Filters, label: string, input: ReactElement) => (
    <div className="admin-field">
      <label htmlFor={`audit-${key}`}>{label}</label>
      {input}
      {errors[key] && <p className="admin-field-error" id={`audit-${key}-error`} role="alert">{errors[key]}</p>}
    </div>
  );
  const text = (key: keyof Filters, label: string, placeholder?: string) => field(key, label, (
    <input id={`audit-${key}`} name={key} value={draft[key]} placeholder={placeholder} aria-invalid={errors[key] ? true : undefined}
      aria-describedby={errors[key] ? `audit-${key}-error` : undefined} onChange={(e) => setDraft({ ...draft, [key]: e.target.value })} />
  ));
  const entries = [...(results.data?.items ?? []), ...more.items];

  return (
    <AdminPage title={t('admin.audit.title')} intro={t('admin.audit.intro')}>
      {operator && (
        <div className="admin-field admin-inline">
          <label htmlFor="audit-scope">{t('admin.audit.scope')}</label>
          <select id="audit-scope" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
            <option value="tenant">{t('admin.audit.scope.tenant')}</option>
            <option value="platform">{t('admin.audit.scope.platform')}</option>
          </select>
        </div>
      )}

      <section aria-labelledby="audit-verify-h" className="admin-card">
        <h2 id="audit-verify-h">{t('admin.audit.verify.title')}</h2>
        {verify.loading && <Loading />}
        {verify.error && <Failure error={verify.error} retry={verify.reload} />}
        {verify.data && (verify.data.ok ? (
          <Notice kind="ok" testId="audit-verify">
            {t('admin.audit.verify.ok', { entries: fmt.number(verify.data.entries), head: verify.data.headSeq })}
            {verify.data.lastVerifiedCheckpoint && ` ${t('admin.audit.verify.checkpoint', { seq: verify.data.lastVerifiedCheckpoint.chainSeq, at: fmt.dateTime(verify.data.lastVerifiedCheckpoint.at) })}`}
          </Notice>
        ) : (
          <Notice kind="error" testId="audit-verify">
            {t('admin.audit.verify.broken', { seq: verify.data.firstBroken?.chainSeq ?? '?' })} {verify.data.firstBroken?.message}
          </Notice>
        ))}
        <button type="button" className="admin-button" onClick={verify.reload}>{t('admin.audit.verify.again')}</button>
      </section>

      <section aria-labelledby="audit-filter-h" className="admin-card">
        <h2 id="audit-filter-h">{t('admin.audit.filters')}</h2>
        <form className="admin-grid" onSubmit={onSearch} noValidate>
          {field('from', t('admin.audit.from'), <input id="audit-from" type="datetime-local" value={draft.from} onChange={(e) => setDraft({ ...draft, from: e.target.value })} />)}
          {field('to', t('admin.audit.to'), <input id="audit-to" type="datetime-local" value={draft.to} aria-invalid={errors.to ? true : undefined} aria-describedby={errors.to ? 'audit-to-error' : undefined} onChange={(e) => setDraft({ ...draft, to: e.target.value })} />)}
          {text('actorId', t('admin.audit.actorId'))}
          {field('actorType', t('admin.audit.actorType'), (
            <select id="audit-actorType" value={draft.actorType} onChange={(e) => setDraft({ ...draft, actorType: e.target.value })}>
              <option value="">{t('admin.any')}</option>
              {actorTypes.map((a) => <option key={a} value={a}>{t(`admin.audit.actorType.${a}`)}</option>)}
            </select>
          ))}
          {text('action', t('admin.audit.action'), 'auth.login')}
          {text('targetType', t('admin.audit.targetType'), 'video')}
          {text('targetId', t('admin.audit.targetId'))}
          {field('outcome', t('admin.audit.outcome'), (
            <select id="audit-outcome" value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
              <option value="">{t('admin.any')}</option>
              {outcomes.map((o) => <option key={o} value={o}>{t(`admin.audit.outcome.${o}`)}</option>)}
            </select>
          ))}
          <div className="admin-actions">
            <button type="submit" className="admin-button admin-primary">{t('admin.audit.search')}</button>
            <button type="button" className="admin-button" onClick={() => { setDraft(noFilters); setErrors({}); setApplied(noFilters); }}>{t('admin.audit.clear')}</button>
          </div>
        </form>
      </section>

      <section aria-labelledby="audit-results-h" className="admin-card">
        <h2 id="audit-results-h">{t('admin.audit.results')}</h2>
        {results.loading && <Loading />}
        {results.error && <Failure error={results.error} retry={results.reload} />}
        {results.data && entries.length === 0 && <p>{t('admin.audit.empty')}</p>}
        {entries.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-labelledby="audit-results-h">
            <table className="admin-table" data-testid="audit-table">
              <thead><tr>
                <th scope="col">{t('admin.audit.col.time')}</th><th scope="col">{t('admin.audit.col.action')}</th><th scope="col">{t('admin.audit.col.outcome')}</th>
                <th scope="col">{t('admin.audit.col.actor')}</th><th scope="col">{t('admin.audit.col.target')}</th><th scope="col">{t('admin.audit.col.seq')}</th>
              </tr></thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.id}>
                    <td>{fmt.dateTime(e.occurredAt)}</td>
                    <td><code>{e.action}</code></td>
                    <td><span className={`admin-badge admin-badge-${e.outcome}`}>{t(`admin.audit.outcome.${e.outcome}`)}</span></td>
                    <td>{e.actor.erasedAs ? t('admin.audit.erased') : (e.actor.ref ?? e.actor.id ?? t(`admin.audit.actorType.${e.actor.type}`))}{e.actor.via ? ` (${e.actor.via})` : ''}</td>
                    <td>{e.target ? `${e.target.type}: ${e.target.erasedAs ? t('admin.audit.erased') : e.target.ref}` : '—'}</td>
                    <td>{e.chainSeq ?? '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {more.error && <p role="alert" className="admin-field-error">{more.error}</p>}
        {more.cursor && (
          <button type="button" className="admin-button" onClick={loadMore} disabled={more.loading}>{more.loading ? t('admin.loading') : t('admin.audit.more')}</button>
        )}
      </section>

      <AuditExport scope={scope} />
    </AdminPage>
  );
}

function AuditExport({ scope }: { scope: Scope }) {
  const t = useT();
  const [to] = useState(() => new Date());
  const [range, setRange] = useState(() => ({ from: localOf(new Date(to.getTime() - 30 * 86_400_000)), to: localOf(new Date(to.getTime() + 60_000)) }));
  const [format, setFormat] = useState<'ndjson' | 'csv'>('ndjson');
  const invalid = !range.from || !range.to || new Date(range.from) >= new Date(range.to);
  const href = invalid ? undefined : `/api/v1/audit/export?${new URLSearchParams({ scope, format, from: isoOf(range.from), to: isoOf(range.to) })}`;
  return (
    <section aria-labelledby="audit-export-h" className="admin-card">
      <h2 id="audit-export-h">{t('admin.audit.export.title')}</h2>
      <p>{t('admin.audit.export.intro')}</p>
      <div className="admin-grid">
        <div className="admin-field">
          <label htmlFor="export-from">{t('admin.audit.from')}</label>
          <input id="export-from" type="datetime-local" value={range.from} onChange={(e) => setRange({ ...range, from: e.target.value })} />
        </div>
        <div className="admin-field">
          <label htmlFor="export-to">{t('admin.audit.to')}</label>
          <input id="export-to" type="datetime-local" value={range.to} aria-invalid={invalid ? true : undefined} aria-describedby={invalid ? 'export-error' : undefined} onChange={(e) => setRange({ ...range, to: e.target.value })} />
        </div>
        <div className="admin-field">
          <label htmlFor="export-format">{t('admin.audit.export.format')}</label>
          <select id="export-format" value={format} onChange={(e) => setFormat(e.target.value as 'ndjson' | 'csv')}>
            <option value="ndjson">NDJSON</option>
            <option value="csv">CSV</option>
          </select>
        </div>
      </div>
      {invalid && <p id="export-error" role="alert" className="admin-field-error">{t('admin.audit.error.range')}</p>}
      {href && <a className="admin-button admin-primary" href={href} download>{t('admin.audit.export.download')}</a>}
    </section>
  );
}
