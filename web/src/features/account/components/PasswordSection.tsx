// Change my password: the current one re-authenticates; the server ends my other sessions.
import { useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { useT } from '../../../app/i18n.tsx';
import { Form, Section, TextField, useToast } from '../../../ui/index.ts';

export function PasswordSection({ onChanged }: { onChanged: () => void }) {
  const t = useT();
  const toast = useToast();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [repeat, setRepeat] = useState('');
  return (
    <Section title={t('account.password.title')}>
      <p className="muted">{t('account.password.intro')}</p>
      <Form
        label={t('account.password.title')}
        submitLabel={t('account.password.submit')}
        validate={() => ({
          currentPassword: current ? undefined : t('account.form.required'),
          newPassword: next.length < 12 ? t('account.password.too_short', { min: 12 }) : next === current ? t('account.password.same') : undefined,
          repeatPassword: repeat !== next ? t('account.password.mismatch') : undefined,
        })}
        onSubmit={async () => {
          await call(api.POST('/api/v1/account/password', { body: { currentPassword: current, newPassword: next } }));
          setCurrent(''); setNext(''); setRepeat('');
          toast.show(t('account.password.changed'));
          onChanged();
        }}
      >
        <TextField label={t('account.password.current')} name="currentPassword" type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        <TextField label={t('account.password.new')} name="newPassword" type="password" autoComplete="new-password" hint={t('account.password.hint', { min: 12 })} value={next} onChange={(e) => setNext(e.target.value)} />
        <TextField label={t('account.password.repeat')} name="repeatPassword" type="password" autoComplete="new-password" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
      </Form>
    </Section>
  );
}
