// Groups of people: create, rename and delete groups, and choose who is in
// each. A video's access can then admit only some groups; taking someone
// out of a group ends their playback at the player's next key request.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import type { paths } from '../../../api/client.ts';
import { errorText, useFormat, useT } from '../../../app/i18n.tsx';
import { Button } from '../../../ui/Button.tsx';
import { Form } from '../../../ui/Form.tsx';
import { SelectField, TextAreaField, TextField } from '../../../ui/fields.tsx';
import { Section } from '../../../ui/Page.tsx';
import { ConfirmButton } from '../../admin/components/Confirm.tsx';
import { AdminPage, Failure, Loading, Notice } from '../../admin/components/layout.tsx';
import { asApiError, useResource } from '../../admin/use-resource.ts';
import '../../admin/admin.css';

type Group = paths['/api/v1/groups']['get']['responses'][200]['content']['application/json']['items'][number];

const NAME_MAX = 100;

export default function GroupsPage() {
  const t = useT();
  const groups = useResource(() => call(api.GET('/api/v1/groups')), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [draft, setDraft] = useState({ name: '', description: '' });

  const act = async (work: () => Promise<unknown>, done: string) => {
    setMessage(null);
    try {
      await work();
      setMessage({ kind: 'ok', text: done });
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(asApiError(err)) });
    }
  };
  const current = groups.data?.items.find((g) => g.id === selected);

  return (
    <AdminPage title={t('groups.title')} intro={t('groups.intro')}>
      {message && <Notice kind={message.kind} testId="groups-notice">{message.text}</Notice>}

      <Section title={t('groups.list')}>
        {groups.loading && <Loading />}
        {groups.error && <Failure error={groups.error} retry={groups.reload} />}
        {groups.data && groups.data.items.length === 0 && <p>{t('groups.none')}</p>}
        {groups.data && groups.data.items.length > 0 && (
          <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('groups.list')}>
            <table className="admin-table" data-testid="groups-table">
              <thead><tr>
                <th scope="col">{t('groups.col.name')}</th><th scope="col">{t('groups.col.members')}</th><th scope="col">{t('groups.col.actions')}</th>
              </tr></thead>
              <tbody>
                {groups.data.items.map((g) => (
                  <tr key={g.id} aria-current={g.id === selected ? 'true' : undefined}>
                    <td id={`group-${g.id}`}><strong>{g.name}</strong>{g.description ? <><br /><span className="admin-muted">{g.description}</span></> : null}</td>
                    <td>{g.memberCount}</td>
                    <td>
                      <span className="admin-actions">
                        <Button variant="ghost" aria-describedby={`group-${g.id}`} aria-pressed={g.id === selected} onClick={() => setSelected(g.id === selected ? null : g.id)}>
                          {t('groups.manage')}
                        </Button>
                        <ConfirmButton label={t('groups.delete')} confirmLabel={t('groups.confirmDelete')} describedBy={`group-${g.id}`} onConfirm={() => act(async () => {
                          await call(api.DELETE('/api/v1/groups/{id}', { params: { path: { id: g.id } } }));
                          if (selected === g.id) setSelected(null);
                          groups.set((d) => d && { items: d.items.filter((x) => x.id !== g.id) });
                        }, t('groups.deleted', { name: g.name }))} />
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <Section title={t('groups.new')}>
        <Form label={t('groups.new')} submitLabel={t('groups.create')} className="admin-grid"
          validate={() => ({ name: !draft.name.trim() ? t('groups.error.name') : draft.name.trim().length > NAME_MAX ? t('groups.error.nameLong', { max: NAME_MAX }) : undefined })}
          onSubmit={async () => {
            const created = await call(api.POST('/api/v1/groups', { body: { name: draft.name.trim(), ...(draft.description.trim() ? { description: draft.description.trim() } : {}) } }));
            groups.reload();
            setSelected(created.id);
            setDraft({ name: '', description: '' });
            setMessage({ kind: 'ok', text: t('groups.created', { name: created.name }) });
          }}>
          <TextField label={t('groups.name')} name="name" autoComplete="off" maxLength={NAME_MAX} value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} />
          <TextField label={t('groups.description')} name="description" autoComplete="off" maxLength={1000} value={draft.description} onChange={(e) => setDraft({ ...draft, description: e.target.value })} />
        </Form>
      </Section>

      {current && <GroupDetail key={current.id} group={current} onChanged={groups.reload} act={act} notify={(text) => setMessage({ kind: 'ok', text })} />}
    </AdminPage>
  );
}

interface DetailProps {
  group: Group;
  onChanged(): void;
  /** Runs a change and reports its outcome above the page. */
  act(work: () => Promise<unknown>, done: string): Promise<void>;
  notify(text: string): void;
}

function GroupDetail({ group, onChanged, act, notify }: DetailProps) {
  const t = useT();
  const fmt = useFormat();
  const members = useResource(() => call(api.GET('/api/v1/groups/{id}/members', { params: { path: { id: group.id } } })), [group.id]);
  const people = useResource(() => call(api.GET('/api/v1/users')), []);
  const [edit, setEdit] = useState({ name: group.name, description: group.description });
  const [adding, setAdding] = useState('');

  const inGroup = new Set(members.data?.items.map((m) => m.id) ?? []);
  const candidates = (people.data?.items ?? []).filter((p) => !inGroup.has(p.id));
  const label = (p: { displayName: string; username: string; email: string }) => `${p.displayName || p.username} (${p.email})`;

  return (
    <Section title={t('groups.detail', { name: group.name })}>
      <Form label={t('groups.edit')} submitLabel={t('groups.save')} className="admin-grid"
        validate={() => ({ name: !edit.name.trim() ? t('groups.error.name') : edit.name.trim().length > NAME_MAX ? t('groups.error.nameLong', { max: NAME_MAX }) : undefined })}
        onSubmit={async () => {
          const saved = await call(api.PATCH('/api/v1/groups/{id}', { params: { path: { id: group.id } }, body: { name: edit.name.trim(), description: edit.description.trim() } }));
          onChanged();
          notify(t('groups.saved', { name: saved.name }));
        }}>
        <TextField label={t('groups.name')} name="name" autoComplete="off" maxLength={NAME_MAX} value={edit.name} onChange={(e) => setEdit({ ...edit, name: e.target.value })} />
        <TextAreaField label={t('groups.description')} name="description" rows={2} maxLength={1000} value={edit.description} onChange={(e) => setEdit({ ...edit, description: e.target.value })} />
      </Form>

      <h3>{t('groups.members')}</h3>
      {members.loading && <Loading />}
      {members.error && <Failure error={members.error} retry={members.reload} />}
      {members.data && members.data.items.length === 0 && <p>{t('groups.noMembers')}</p>}
      {members.data && members.data.items.length > 0 && (
        <div className="admin-table-wrap" tabIndex={0} role="region" aria-label={t('groups.members')}>
          <table className="admin-table" data-testid="group-members-table">
            <thead><tr>
              <th scope="col">{t('groups.col.person')}</th><th scope="col">{t('groups.col.role')}</th><th scope="col">{t('groups.col.added')}</th><th scope="col">{t('groups.col.actions')}</th>
            </tr></thead>
            <tbody>
              {members.data.items.map((m) => (
                <tr key={m.id}>
                  <td id={`member-${m.id}`}><strong>{m.displayName || m.username}</strong><br /><span className="admin-muted">{m.email}</span></td>
                  <td>{t(`admin.role.${m.role}`)}{m.status !== 'active' ? <> · <span className="admin-badge admin-badge-disabled">{t('groups.disabled')}</span></> : null}</td>
                  <td>{fmt.date(m.addedAt)}</td>
                  <td>
                    <Button variant="ghost" aria-describedby={`member-${m.id}`} onClick={() => act(async () => {
                      await call(api.DELETE('/api/v1/groups/{id}/members/{userId}', { params: { path: { id: group.id, userId: m.id } } }));
                      members.set((d) => d && { items: d.items.filter((x) => x.id !== m.id) });
                      onChanged();
                    }, t('groups.memberRemoved', { name: m.email, group: group.name }))}>{t('groups.removeMember')}</Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      {people.error && <Failure error={people.error} retry={people.reload} />}
      {people.data && (
        <Form label={t('groups.addMember')} submitLabel={t('groups.add')} className="admin-grid"
          validate={() => ({ person: adding ? undefined : t('groups.error.person') })}
          onSubmit={async () => {
            const person = candidates.find((p) => p.id === adding);
            const res = await call(api.POST('/api/v1/groups/{id}/members', { params: { path: { id: group.id } }, body: { userIds: [adding] } }));
            members.set(() => ({ items: res.items }));
            setAdding('');
            onChanged();
            notify(t('groups.memberAdded', { name: person?.email ?? '', group: group.name }));
          }}>
          <SelectField label={t('groups.person')} name="person" value={adding} onChange={(e) => setAdding(e.target.value)}
            options={[{ value: '', label: candidates.length ? t('groups.choosePerson') : t('groups.everyoneIn') }, ...candidates.map((p) => ({ value: p.id, label: label(p) }))]} />
        </Form>
      )}
    </Section>
  );
}
