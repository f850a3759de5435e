// The trash: deleted videos, collections and people with when each is
// purged; restore, or (owners and admins) delete forever after confirming.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useFormat, useT } from '../../../app/i18n.tsx';
import { Button, Dialog, EmptyState, ErrorView, Form, Loading, Page, useAsync, useToast } from '../../../ui/index.ts';
import { useErrorText } from '../data.ts';
import { useRoleAtLeast } from '../roles.ts';
import type { TrashItem } from '../types.ts';
import '../library.css';

export default function TrashPage() {
  const t = useT();
  const format = useFormat();
  const toast = useToast();
  const errorText = useErrorText();
  const canPurge = useRoleAtLeast('admin');
  const trash = useAsync(() => call(api.GET('/api/v1/trash', { params: { query: { limit: 500 } } })), []);
  const [purging, setPurging] = useState<TrashItem | null>(null);
  const [rowError, setRowError] = useState<string | null>(null);

  async function restore(item: TrashItem) {
    setRowError(null);
    try {
      await call(api.POST('/api/v1/trash/{type}/{id}/restore', { params: { path: { type: item.type, id: item.id } } }));
      toast.show(t('library.trash.restored', { name: item.name }));
      trash.reload();
    } catch (err) {
      setRowError(errorText(err));
    }
  }

  return (
    <Page title={t('library.trash.title')} description={t('library.trash.description')} className="lib-page">
      {rowError ? <p className="alert alert-error" role="alert">{rowError}</p> : null}
      {trash.error ? <ErrorView error={trash.error} onRetry={trash.reload} /> : !trash.data ? <Loading /> : trash.data.items.length === 0 ? (
        <EmptyState icon="trash" title={t('library.trash.empty')} />
      ) : (
        <div className="lib-table-wrap">
          <table className="lib-table">
            <caption className="visually-hidden">{t('library.trash.title')}</caption>
            <thead><tr>
              <th scope="col">{t('library.trash.name')}</th><th scope="col">{t('library.trash.type')}</th><th scope="col">{t('library.trash.deleted')}</th>
              <th scope="col">{t('library.trash.purgeAfter')}</th><th scope="col"><span className="visually-hidden">{t('library.links.actions')}</span></th>
            </tr></thead>
            <tbody>
              {trash.data.items.map((item) => (
                <tr key={`${item.type}:${item.id}`}>
                  <td>{item.name}</td>
                  <td>{t(`library.trash.kind.${item.type}`)}</td>
                  <td>{format.dateTime(item.deletedAt)}</td>
                  <td>{item.purging ? t('library.trash.purging') : format.dateTime(item.purgeAfter)}</td>
                  <td className="lib-actions-cell">
                    {!item.purging ? <Button onClick={() => void restore(item)}>{t('library.trash.restore')}<span className="visually-hidden"> {item.name}</span></Button> : null}
                    {canPurge && !item.purging ? <Button variant="danger" onClick={() => setPurging(item)}>{t('library.trash.purge')}<span className="visually-hidden"> {item.name}</span></Button> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog open={purging !== null} title={t('library.trash.purge')} onClose={() => setPurging(null)} size="small">
        <Form label={t('library.trash.purge')} submitVariant="danger" submitLabel={t('library.trash.purgeConfirm')}
          secondary={<Button onClick={() => setPurging(null)}>{t('library.action.cancel')}</Button>}
          onSubmit={async () => {
            if (!purging) return;
            await call(api.DELETE('/api/v1/trash/{type}/{id}', { params: { path: { type: purging.type, id: purging.id } } }));
            toast.show(t('library.trash.purged', { name: purging.name }));
            setPurging(null);
            trash.reload();
          }}>
          <p>{t('library.trash.purgeExplain', { name: purging?.name ?? '' })}</p>
        </Form>
      </Dialog>
    </Page>
  );
}
