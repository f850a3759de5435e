// The parts of "My data": what is held, consents, requests, and who looked.
import { useEffect, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import type { ResponseOf } from '../../../api/types.ts';
import { errorText, hasMessage, useFormat, useT } from '../../../app/i18n.tsx';
import { describeAuditFacts } from '../format.ts';
import { useSession } from '../../../app/session.tsx';
import { Button, DataTable, ErrorView, Loading, Section, useAsync, useToast } from '../../../ui/index.ts';

export type PrivacyRequest = ResponseOf<'/api/v1/privacy/requests'>['items'][number];
const OPEN_STATES = new Set(['identity_unverified', 'pending', 'approved', 'in_processing']);
export const isOpen = (r: PrivacyRequest) => OPEN_STATES.has(r.state);

function stateBadge(state: string): string {
  return state === 'complete' ? 'badge-success' : state === 'denied' || state === 'error' ? 'badge-danger' : 'badge-info';
}

/** What Haven holds about me: my account, and the organization's record of processing when I may read it. */
export function HeldSection() {
  const t = useT();
  const fmt = useFormat();
  const { role } = useSession();
  const held = useAsync(async () => {
    const [profile, sessions, tokens, passkeys, consents] = await Promise.all([
      call(api.GET('/api/v1/account')),
      call(api.GET('/api/v1/account/sessions')),
      call(api.GET('/api/v1/account/tokens')),
      call(api.GET('/api/v1/account/passkeys')),
      call(api.GET('/api/v1/consent/history')),
    ]);
    return { profile, sessions: sessions.items.length, tokens: tokens.items.length, passkeys: passkeys.items.length, consents: consents.items.length };
  }, []);
  const mayReadRecord = role === 'admin' || role === 'owner';
  const record = useAsync(() => (mayReadRecord ? call(api.GET('/api/v1/privacy/records')) : Promise.resolve(null)), [mayReadRecord]);

  return (
    <Section title={t('account.privacy.held_title')}>
      <p className="muted">{t('account.privacy.held_intro')}</p>
      {held.error ? <ErrorView error={held.error} onRetry={held.reload} /> : !held.data ? <Loading /> : (
        <dl className="account-facts">
          <dt>{t('account.privacy.held_identity')}</dt>
          <dd>{held.data.profile.displayName || held.data.profile.username} · {held.data.profile.email}</dd>
          <dt>{t('account.profile.language')}</dt>
          <dd>{held.data.profile.language}</dd>
          <dt>{t('account.profile.member_since')}</dt>
          <dd>{fmt.date(held.data.profile.createdAt)}</dd>
          <dt>{t('account.privacy.held_security')}</dt>
          <dd>{t('account.privacy.held_security_value', { twofactor: held.data.profile.twoFactor ? t('account.twofactor.on') : t('account.twofactor.off'), passkeys: held.data.passkeys })}</dd>
          <dt>{t('account.privacy.held_sessions')}</dt>
          <dd>{t('account.privacy.held_sessions_value', { sessions: held.data.sessions, tokens: held.data.tokens })}</dd>
          <dt>{t('account.privacy.held_consents')}</dt>
          <dd>{t('account.privacy.held_consents_value', { count: held.data.consents })}</dd>
        </dl>
      )}
      <h3 className="account-subtitle">{t('account.privacy.purposes_title')}</h3>
      {!mayReadRecord ? <p>{t('account.privacy.purposes_in_export')}</p> : record.error ? <ErrorView error={record.error} onRetry={record.reload} /> : !record.data ? <Loading /> : (
        <DataTable
          caption={t('account.privacy.purposes_title')}
          captionHidden
          rows={record.data.activities}
          rowKey={(a) => a.purpose}
          columns={[
            { key: 'purpose', header: t('account.privacy.purpose'), render: (a) => a.purpose },
            { key: 'basis', header: t('account.privacy.legal_basis'), render: (a) => a.legalBases.join(', ') },
            { key: 'categories', header: t('account.privacy.categories'), render: (a) => <span className="account-chips">{a.dataCategories.map((c) => <code key={c}>{c}</code>)}</span> },
          ]}
        />
      )}
    </Section>
  );
}

/** My consents now and every decision I made. */
export function ConsentSection() {
  const t = useT();
  const fmt = useFormat();
  const toast = useToast();
  const session = useSession();
  const data = useAsync(async () => {
    const [current, history] = await Promise.all([call(api.GET('/api/v1/consent')), call(api.GET('/api/v1/consent/history'))]);
    return { current: current.items, history: history.items };
  }, []);
  const [busy, setBusy] = useState<string | null>(null);

  async function withdraw(id: string) {
    setBusy(id);
    try {
      await call(api.POST('/api/v1/consent/{id}', { params: { path: { id } }, body: { decision: 'withdrawn' } }));
      toast.show(t('account.consent.withdrawn'));
      data.reload();
      await session.refresh();
    } catch (err) {
      toast.show(errorText(err), 'error');
    } finally {
      setBusy(null);
    }
  }

  return (
    <Section title={t('account.consent.title')}>
      {data.error ? <ErrorView error={data.error} onRetry={data.reload} /> : !data.data ? <Loading /> : (
        <>
          <DataTable
            caption={t('account.consent.current')}
            rows={data.data.current}
            rowKey={(d) => d.id}
            columns={[
              { key: 'title', header: t('account.consent.document'), render: (d) => `${d.title} (v${d.version})` },
              { key: 'basis', header: t('account.privacy.legal_basis'), render: (d) => d.legalBasis },
              { key: 'decision', header: t('account.consent.decision'), render: (d) => d.decision ? t(`account.consent.decision.${d.decision}`) : t('account.consent.undecided') },
              { key: 'when', header: t('account.consent.when'), render: (d) => (d.decidedAt ? fmt.dateTime(d.decidedAt) : '—') },
              { key: 'actions', header: t('account.table.actions'), render: (d) => d.legalBasis === 'consent' && d.decision === 'accepted' ? (
                <Button variant="danger" busy={busy === d.id} onClick={() => withdraw(d.id)} aria-label={t('account.consent.withdraw_label', { title: d.title })}>{t('account.consent.withdraw')}</Button>
              ) : null },
            ]}
            empty={t('account.consent.none')}
          />
          <DataTable
            caption={t('account.consent.history')}
            rows={data.data.history}
            rowKey={(r) => r.id}
            columns={[
              { key: 'when', header: t('account.consent.when'), render: (r) => fmt.dateTime(r.recorded_at) },
              { key: 'document', header: t('account.consent.document'), render: (r) => `${r.document_kind} v${r.document_version}` },
              { key: 'decision', header: t('account.consent.decision'), render: (r) => (['accepted', 'declined', 'withdrawn'].includes(r.decision) ? t(`account.consent.decision.${r.decision}`) : r.decision) },
              { key: 'method', header: t('account.consent.method'), render: (r) => r.method },
            ]}
            empty={t('account.consent.none')}
          />
        </>
      )}
    </Section>
  );
}

/** My requests with their states; a finished access request's archive downloads from here. */
export function RequestsSection({ requests, onDownload, busy }: { requests: PrivacyRequest[]; onDownload: (r: PrivacyRequest) => void; busy: string | null }) {
  const t = useT();
  const fmt = useFormat();
  return (
    <Section title={t('account.requests.title')}>
      <DataTable
        caption={t('account.requests.title')}
        captionHidden
        rows={requests}
        rowKey={(r) => r.id}
        columns={[
          { key: 'type', header: t('account.requests.type'), render: (r) => t(`account.requests.type.${r.type}`) },
          { key: 'state', header: t('account.requests.state'), render: (r) => (
            <span className={`badge ${stateBadge(r.state)}`} data-state={r.state}>{t(`account.requests.state.${r.state}`)}</span>
          ) },
          { key: 'received', header: t('account.requests.received'), render: (r) => fmt.dateTime(r.receivedAt) },
          { key: 'due', header: t('account.requests.due'), render: (r) => (isOpen(r) ? <>{fmt.date(r.dueAt)}{r.overdue ? <> <span className="badge badge-danger">{t('account.requests.overdue')}</span></> : null}</> : '—') },
          { key: 'outcome', header: t('account.requests.outcome'), render: (r) => r.type === 'access' && r.state === 'complete' ? (
            <Button variant="primary" icon="download" busy={busy === r.id} onClick={() => onDownload(r)} aria-label={t('account.requests.download_label', { date: fmt.dateTime(r.receivedAt) })}>{t('account.requests.download')}</Button>
          ) : r.decisionReason ? r.decisionReason : null },
        ]}
        empty={t('account.requests.none')}
      />
    </Section>
  );
}

type AccessEntry = ResponseOf<'/api/v1/account/access-log'>['items'][number];

function actorText(t: ReturnType<typeof useT>, a: AccessEntry['actor']): string {
  if (a.type === 'system') return t('account.access.actor.system', { job: a.job ?? '—' });
  if (a.type === 'support_grant') return t('account.access.actor.support_grant', { grant: a.grant ?? '—' });
  if (!a.userId) return t('account.access.actor.erased');
  return t(a.type === 'api_token' ? 'account.access.actor.api_token' : 'account.access.actor.user', { id: a.userId });
}

/**
 * Accesses to my account by others (admins, support, operators, Haven's jobs),
 * from the audit trail; newest first, more on request.
 */
export function AccessLogSection() {
  const t = useT();
  const fmt = useFormat();
  const first = useAsync(() => call(api.GET('/api/v1/account/access-log', { params: { query: { limit: 25 } } })), []);
  const [more, setMore] = useState<{ items: AccessEntry[]; cursor: string | null | undefined; loading: boolean; error?: unknown }>({ items: [], cursor: undefined, loading: false });

  useEffect(() => { setMore({ items: [], cursor: undefined, loading: false }); }, [first.data]);
  const cursor = more.cursor === undefined ? first.data?.nextCursor ?? null : more.cursor;

  async function loadMore() {
    if (!cursor) return;
    setMore((m) => ({ ...m, loading: true, error: undefined }));
    try {
      const page = await call(api.GET('/api/v1/account/access-log', { params: { query: { limit: 25, cursor } } }));
      setMore((m) => ({ items: [...m.items, ...page.items], cursor: page.nextCursor, loading: false }));
    } catch (err) {
      setMore((m) => ({ ...m, loading: false, error: err }));
    }
  }

  const action = (e: AccessEntry) => {
    const key = `account.access.action.${e.action}`;
    return hasMessage(key) ? <span title={e.action}>{t(key)}</span> : <code>{e.action}</code>;
  };
  const outcome = (e: AccessEntry) => {
    const key = `account.access.outcome.${e.outcome}`;
    return hasMessage(key) ? t(key) : e.outcome;
  };

  return (
    <Section title={t('account.access.title')}>
      <p className="muted">{t('account.access.intro')}</p>
      {first.error ? <ErrorView error={first.error} onRetry={first.reload} />
        : !first.data ? <Loading />
        : (
          <>
            <DataTable
              caption={t('account.access.title')}
              captionHidden
              rows={[...first.data.items, ...more.items]}
              rowKey={(e) => String(e.id)}
              columns={[
                { key: 'when', header: t('account.consent.when'), render: (e) => fmt.dateTime(e.occurredAt) },
                { key: 'who', header: t('account.access.who'), render: (e) => (
                  <>
                    <span className="account-access-who">{actorText(t, e.actor)}</span>
                    <span className="muted account-access-scope">{t(`account.access.scope.${e.scope}`)}</span>
                  </>
                ) },
                { key: 'action', header: t('account.access.action'), render: action },
                { key: 'outcome', header: t('account.access.outcome'), render: outcome },
                { key: 'details', header: t('account.access.details'), render: (e) => describeAuditFacts(e.diff, e.details) || '—' },
              ]}
              empty={t('account.access.none')}
            />
            {more.error ? <ErrorView error={more.error} onRetry={loadMore} /> : null}
            {cursor ? (
              <div className="row account-actions">
                <Button busy={more.loading} onClick={loadMore}>{t('account.access.more')}</Button>
              </div>
            ) : null}
          </>
        )}
    </Section>
  );
}
