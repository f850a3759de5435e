// Webhook endpoints and, for the chosen one, its delivery log with every
// attempt; redeliver, rotate the secret, disable or remove.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Form } from '../../../ui/Form.tsx';
import { CheckboxField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { ConfirmButton } from '../components/Confirm.tsx';
import { AdminPage, Failure, Loading, Notice } from '../components/layout.tsx';
import { asApiError, useResource } from '../use-resource.ts';
import '../admin.css';

const eventTypes = ['video.ready', 'video.failed', 'video.deleted'] as const;
type EventType = (typeof eventTypes)[number];

export default function WebhooksPage() {
  const t = useT();
  const endpoints = useResource(() => call(api.GET('/api/v1/webhooks')), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [secret, setSecret] = useState<{ url: string; secret: string } | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [f, setF] = useState({ url: '', description: '', events: new Set<EventType>(eventTypes) });
  const act = async (work: () => Promise<void>) => {
    setMessage(null);
    try { await work(); } catch (err) { setMessage({ kind: 'error', text: errorText(asApiError(err)) }); }
  };

  return (
    <AdminPage title={t('admin.webhooks.title')} intro={t('admin.webhooks.intro')}>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {secret && (
        <Notice kind="info" testId="webhook-secret">
          {t('admin.webhooks.secretOnce', { url: secret.url })}
          <code className="admin-secret">{secret.secret}</code>
          <Button variant="ghost" onClick={() => setSecret(null)}>{t('admin.webhooks.secretSaved')}</Button>
        </Notice>
      )}
      <Section title={t('admin.webhooks.add')}>
        <Form label={t('admin.webhooks.add')} submitLabel={t('admin.webhooks.add')} className="admin-grid"
          validate={() => {
            let url: URL | undefined;
            try { url = new URL(f.url.trim()); } catch { url = undefined; }
            return {
              url: url && (url.protocol === 'https:' || url.protocol === 'http:') ? undefined : t('admin.webhooks.error.url'),
              'event-video.ready': f.events.size > 0 ? undefined : t('admin.webhooks.error.events'),
            };
          }}
          onSubmit={async () => {
            const created = await call(api.POST('/api/v1/webhooks', { body: { url: f.url.trim(), events: [...f.events], description: f.description.trim() || undefined } }));
            setSecret({ url: created.url, secret: created.secret });
            setF({ url: '', description: '', events: new Set(eventTypes) });
            endpoints.reload();
            setSelected(created.id);
          }}>
          <TextField label={t('admin.webhooks.url')} name="url" type="url" placeholder="https://" value={f.url} onChange={(e) => setF({ ...f, url: e.target.value })} />
          <TextField label={t('admin.webhooks.description')} name="description" value={f.description} onChange={(e) => setF({ ...f, description: e.target.value })} />
          <fieldset className="admin-fieldset">
            <legend>{t('admin.webhooks.events')}</legend>
            {eventTypes.map((ev) => (
              <CheckboxField key={ev} label={t(`admin.webhooks.event.${ev}`)} name={`event-${ev}`} checked={f.events.has(ev)} onChange={(e) => {
                const next = new Set(f.events);
                if (e.target.checked) next.add(ev); else next.delete(ev);
                setF({ ...f, events: next });
              }} />
            ))}
          </fieldset>
        </Form>
      </Section>

      <Section title={t('admin.webhooks.endpoints')}>
        {endpoints.loading && <Loading />}
        {endpoints.error && <Failure error={endpoints.error} retry={endpoints.reload} />}
        {endpoints.data && endpoints.data.items.length === 0 && <p>{t('admin.webhooks.none')}</p>}
        {endpoints.data && endpoints.data.items.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.webhooks.endpoints')}>
            <table className="admin-table" data-testid="webhooks-table">
              <thead><tr><th scope="col">{t('admin.webhooks.url')}</th><th scope="col">{t('admin.webhooks.events')}</th><th scope="col">{t('admin.sso.state')}</th><th scope="col">{t('admin.users.col.actions')}</th></tr></thead>
              <tbody>
                {endpoints.data.items.map((ep) => (
                  <tr key={ep.id}>
                    <td id={`wh-${ep.id}`}><code>{ep.url}</code>{ep.description && <><br /><span className="admin-muted">{ep.description}</span></>}</td>
                    <td>{ep.events.map((ev) => t(`admin.webhooks.event.${ev}`)).join(', ')}</td>
                    <td><span className={`admin-badge admin-badge-${ep.enabled ? 'active' : 'disabled'}`}>{ep.enabled ? t('admin.enabled') : t('admin.disabledState')}</span></td>
                    <td>
                      <span className="admin-actions">
                        <Button variant="ghost" aria-describedby={`wh-${ep.id}`} aria-pressed={selected === ep.id} onClick={() => setSelected(ep.id)}>{t('admin.webhooks.showDeliveries')}</Button>
                        <Button variant="ghost" aria-describedby={`wh-${ep.id}`} onClick={() => act(async () => {
                          const updated = await call(api.PATCH('/api/v1/webhooks/{id}', { params: { path: { id: ep.id } }, body: { enabled: !ep.enabled } }));
                          endpoints.set((d) => d && { items: d.items.map((x) => (x.id === ep.id ? updated : x)) });
                        })}>{ep.enabled ? t('admin.disable') : t('admin.enable')}</Button>
                        <ConfirmButton label={t('admin.webhooks.rotate')} confirmLabel={t('admin.webhooks.confirmRotate')} describedBy={`wh-${ep.id}`} onConfirm={() => act(async () => {
                          const r = await call(api.POST('/api/v1/webhooks/{id}/rotate-secret', { params: { path: { id: ep.id } } }));
                          setSecret({ url: ep.url, secret: r.secret });
                        })} />
                        <ConfirmButton label={t('admin.remove')} confirmLabel={t('admin.webhooks.confirmRemove')} describedBy={`wh-${ep.id}`} onConfirm={() => act(async () => {
                          await call(api.DELETE('/api/v1/webhooks/{id}', { params: { path: { id: ep.id } } }));
                          if (selected === ep.id) setSelected(null);
                          endpoints.reload();
                        })} />
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>
      {selected && <Deliveries key={selected} endpointId={selected} url={endpoints.data?.items.find((e) => e.id === selected)?.url ?? ''} />}
    </AdminPage>
  );
}

function Deliveries({ endpointId, url }: { endpointId: string; url: string }) {
  const t = useT();
  const fmt = useFormat();
  const deliveries = useResource(() => call(api.GET('/api/v1/webhooks/{id}/deliveries', { params: { path: { id: endpointId }, query: { limit: 50 } } })), [endpointId]);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  return (
    <Section title={t('admin.webhooks.deliveries', { url })} actions={<Button onClick={deliveries.reload}>{t('admin.refresh')}</Button>}>
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {deliveries.loading && <Loading />}
      {deliveries.error && <Failure error={deliveries.error} retry={deliveries.reload} />}
      {deliveries.data && deliveries.data.items.length === 0 && <p>{t('admin.webhooks.noDeliveries')}</p>}
      {deliveries.data && deliveries.data.items.length > 0 && (
        <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('admin.webhooks.deliveries', { url })}>
          <table className="admin-table" data-testid="deliveries-table">
            <thead><tr>
              <th scope="col">{t('admin.webhooks.col.time')}</th><th scope="col">{t('admin.webhooks.col.event')}</th><th scope="col">{t('admin.users.col.status')}</th>
              <th scope="col">{t('admin.webhooks.col.attempts')}</th><th scope="col">{t('admin.webhooks.col.response')}</th><th scope="col">{t('admin.users.col.actions')}</th>
            </tr></thead>
            <tbody>
              {deliveries.data.items.map((d) => (
                <tr key={d.id}>
                  <td>{fmt.dateTime(d.createdAt)}</td>
                  <td id={`dl-${d.id}`}>{t(`admin.webhooks.event.${d.eventType}`)}</td>
                  <td><span className={`admin-badge admin-badge-${d.status}`}>{t(`admin.webhooks.status.${d.status}`)}</span></td>
                  <td>{d.attempts}{d.nextAttemptAt && d.status === 'pending' ? ` — ${t('admin.webhooks.next', { at: fmt.dateTime(d.nextAttemptAt) })}` : ''}</td>
                  <td>{d.lastStatusCode ?? '—'}{d.lastDurationMs != null ? ` · ${fmt.number(d.lastDurationMs)} ms` : ''}{d.lastError ? <><br /><span className="admin-muted">{d.lastError}</span></> : null}</td>
                  <td>
                    <Button variant="ghost" aria-describedby={`dl-${d.id}`} onClick={async () => {
                      setMessage(null);
                      try {
                        await call(api.POST('/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', { params: { path: { id: endpointId, deliveryId: d.id } } }));
                        setMessage({ kind: 'ok', text: t('admin.webhooks.redelivered') });
                        deliveries.reload();
                      } catch (err) { setMessage({ kind: 'error', text: errorText(asApiError(err)) }); }
                    }}>{t('admin.webhooks.redeliver')}</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Section>
  );
}
