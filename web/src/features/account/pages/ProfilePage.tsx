// My profile: display name and preferred language (the whole UI follows it),
// and the email address with its verification state.
import { useEffect, useState } from 'react';
import { api, call } from '../../../api/client.ts';
import { errorText, isLanguage, translate, type Language, languages, useFormat, useLanguage, useT } from '../../../app/i18n.tsx';
import { useSession } from '../../../app/session.tsx';
import { Button, ErrorView, Form, Loading, Page, Section, SelectField, TextField, useAsync, useToast } from '../../../ui/index.ts';
import '../account.css';

/** Each language in its own name, as people look for it. */
const languageNames: Record<Language, string> = { en: 'English', sv: 'Svenska', fi: 'Suomi', de: 'Deutsch' };

export default function ProfilePage() {
  const t = useT();
  const fmt = useFormat();
  const toast = useToast();
  const session = useSession();
  const { setLanguage } = useLanguage();
  const profile = useAsync(() => call(api.GET('/api/v1/account')), []);
  const [displayName, setDisplayName] = useState('');
  const [language, setLang] = useState<Language>('en');
  const [verifySent, setVerifySent] = useState(false);
  const [verifyBusy, setVerifyBusy] = useState(false);
  const [verifyError, setVerifyError] = useState<string | null>(null);

  useEffect(() => {
    if (!profile.data) return;
    setDisplayName(profile.data.displayName);
    if (isLanguage(profile.data.language)) setLang(profile.data.language);
  }, [profile.data]);

  if (!profile.data) {
    return (
      <Page title={t('account.profile.title')}>
        {profile.error ? <ErrorView error={profile.error} onRetry={profile.reload} /> : <Loading />}
      </Page>
    );
  }
  const data = profile.data;

  async function sendVerification() {
    setVerifyBusy(true);
    setVerifyError(null);
    try {
      await call(api.POST('/api/v1/account/email/verify'));
      setVerifySent(true);
    } catch (err) {
      setVerifyError(errorText(err));
    } finally {
      setVerifyBusy(false);
    }
  }

  return (
    <Page title={t('account.profile.title')} description={t('account.profile.description')} className="account-page">
      <Section title={t('account.profile.details')}>
        <Form
          label={t('account.profile.details')}
          submitLabel={t('account.action.save')}
          validate={() => ({ displayName: displayName.trim().length > 200 ? t('account.form.too_long', { max: 200 }) : undefined })}
          onSubmit={async () => {
            const updated = await call(api.PATCH('/api/v1/account', { body: { displayName: displayName.trim(), language } }));
            profile.setData(updated);
            // The session carries the language too: reading it again makes every part of the shell agree.
            if (isLanguage(updated.language)) setLanguage(updated.language);
            await session.refresh();
            toast.show(translate(isLanguage(updated.language) ? updated.language : 'en', 'account.profile.saved'));
          }}
        >
          <TextField label={t('account.profile.display_name')} name="displayName" autoComplete="name" value={displayName} maxLength={200} onChange={(e) => setDisplayName(e.target.value)} />
          <SelectField
            label={t('account.profile.language')}
            name="language"
            hint={t('account.profile.language_hint')}
            value={language}
            onChange={(e) => { if (isLanguage(e.target.value)) setLang(e.target.value); }}
            options={languages.map((l) => ({ value: l, label: languageNames[l] }))}
          />
        </Form>
      </Section>

      <Section title={t('account.profile.email')}>
        <dl className="account-facts">
          <dt>{t('account.profile.email_address')}</dt>
          <dd>{data.email}</dd>
          <dt>{t('account.profile.email_status')}</dt>
          <dd>
            {data.emailVerified
              ? <span className="badge badge-success">{t('account.profile.verified')}</span>
              : <span className="badge badge-warning">{t('account.profile.unverified')}</span>}
          </dd>
          <dt>{t('account.profile.username')}</dt>
          <dd>{data.username}</dd>
          <dt>{t('account.profile.member_since')}</dt>
          <dd>{fmt.date(data.createdAt)}</dd>
        </dl>
        {!data.emailVerified ? (
          <div className="stack">
            {verifySent ? <p className="alert alert-success" role="status">{t('account.profile.verify_sent')}</p> : null}
            {verifyError ? <p className="alert alert-error" role="alert">{verifyError}</p> : null}
            <div><Button onClick={sendVerification} busy={verifyBusy} icon="check">{t('account.profile.verify_send')}</Button></div>
          </div>
        ) : null}
      </Section>
    </Page>
  );
}
