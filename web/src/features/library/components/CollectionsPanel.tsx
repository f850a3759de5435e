// The collections tree: links that filter the library, and (for editors)
// create, rename, move and delete (to the trash).
import { useState } from 'react';
import { NavLink, useNavigate } from 'react-router';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { Button, Dialog, Form, Icon, SelectField, TextField, useToast } from '../../../ui/index.ts';
import type { Collection } from '../types.ts';

interface Props {
  collections: Collection[];
  current: Collection | undefined;
  canEdit: boolean;
  onChanged(): void;
}

function childrenOf(all: Collection[], parentId: string | null): Collection[] {
  return all.filter((c) => c.parentId === parentId).sort((a, b) => a.name.localeCompare(b.name));
}

/** Every collection except `exclude` and its descendants, with indentation for a select. */
export function collectionOptions(all: Collection[], exclude?: string): { value: string; label: string }[] {
  const out: { value: string; label: string }[] = [];
  const walk = (parentId: string | null, depth: number) => {
    for (const c of childrenOf(all, parentId)) {
      if (c.id === exclude) continue;
      out.push({ value: c.id, label: `${'— '.repeat(depth)}${c.name}` });
      walk(c.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function Tree({ all, parentId }: { all: Collection[]; parentId: string | null }) {
  const items = childrenOf(all, parentId);
  if (!items.length) return null;
  return (
    <ul className="lib-tree">
      {items.map((c) => (
        <li key={c.id}>
          <NavLink to={`/collections/${c.id}`} className="lib-tree-link">
            <Icon name="folder" size={16} />
            <span>{c.name}</span>
            <span className="lib-count">{c.videoCount}</span>
          </NavLink>
          <Tree all={all} parentId={c.id} />
        </li>
      ))}
    </ul>
  );
}

type Mode = 'create' | 'edit' | 'delete' | null;

export function CollectionsPanel({ collections, current, canEdit, onChanged }: Props) {
  const t = useT();
  const toast = useToast();
  const navigate = useNavigate();
  const [mode, setMode] = useState<Mode>(null);
  const [name, setName] = useState('');
  const [parent, setParent] = useState('');

  function open(next: Mode) {
    setMode(next);
    setName(next === 'edit' && current ? current.name : '');
    setParent(next === 'edit' ? current?.parentId ?? '' : current?.id ?? '');
  }
  const validate = () => ({ name: name.trim() ? undefined : t('library.collections.nameRequired') });

  return (
    <nav className="lib-collections" aria-label={t('library.collections.title')}>
      <h2 className="lib-side-title">{t('library.collections.title')}</h2>
      <ul className="lib-tree">
        <li><NavLink to="/library" end className="lib-tree-link"><Icon name="video" size={16} /><span>{t('library.collections.all')}</span></NavLink></li>
      </ul>
      <Tree all={collections} parentId={null} />
      {canEdit ? (
        <div className="lib-collection-actions">
          <Button icon="plus" onClick={() => open('create')}>{t('library.collections.new')}</Button>
          {current ? <Button icon="edit" onClick={() => open('edit')}>{t('library.collections.edit')}</Button> : null}
          {current ? <Button icon="trash" variant="danger" onClick={() => setMode('delete')}>{t('library.collections.delete')}</Button> : null}
        </div>
      ) : null}

      <Dialog open={mode === 'create' || mode === 'edit'} title={mode === 'edit' ? t('library.collections.edit') : t('library.collections.new')} onClose={() => setMode(null)}>
        <Form
          label={mode === 'edit' ? t('library.collections.edit') : t('library.collections.new')}
          validate={validate}
          submitLabel={t('library.action.save')}
          secondary={<Button onClick={() => setMode(null)}>{t('library.action.cancel')}</Button>}
          onSubmit={async () => {
            const body = { name: name.trim(), parentId: parent || null };
            if (mode === 'edit' && current) {
              await call(api.PATCH('/api/v1/collections/{id}', { params: { path: { id: current.id } }, body }));
              toast.show(t('library.collections.saved'));
            } else {
              const created = await call(api.POST('/api/v1/collections', { body }));
              toast.show(t('library.collections.created'));
              navigate(`/collections/${created.id}`);
            }
            setMode(null);
            onChanged();
          }}
        >
          <TextField label={t('library.collections.name')} name="name" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required />
          <SelectField
            label={t('library.collections.parent')}
            name="parentId"
            value={parent}
            onChange={(e) => setParent(e.target.value)}
            options={[{ value: '', label: t('library.collections.topLevel') }, ...collectionOptions(collections, mode === 'edit' ? current?.id : undefined)]}
          />
        </Form>
      </Dialog>

      <Dialog
        open={mode === 'delete'}
        title={t('library.collections.delete')}
        onClose={() => setMode(null)}
        size="small"
      >
        <Form
          label={t('library.collections.delete')}
          submitVariant="danger"
          submitLabel={t('library.collections.deleteConfirm')}
          secondary={<Button onClick={() => setMode(null)}>{t('library.action.cancel')}</Button>}
          onSubmit={async () => {
            if (!current) return;
            await call(api.DELETE('/api/v1/collections/{id}', { params: { path: { id: current.id } } }));
            toast.show(t('library.collections.deleted', { name: current.name }));
            setMode(null);
            navigate('/library');
            onChanged();
          }}
        >
          <p>{t('library.collections.deleteExplain', { name: current?.name ?? '' })}</p>
        </Form>
      </Dialog>
    </nav>
  );
}
