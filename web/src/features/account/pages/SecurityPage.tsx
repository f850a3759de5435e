// Sign-in and security: password, second factor, passkeys, sessions.
import { useState } from 'react';
import { useT } from '../../../app/i18n.tsx';
import { Page } from '../../../ui/index.ts';
import { PasskeysSection } from '../components/PasskeysSection.tsx';
import { PasswordSection } from '../components/PasswordSection.tsx';
import { SessionsSection } from '../components/SessionsSection.tsx';
import { TwoFactorSection } from '../components/TwoFactorSection.tsx';
import '../account.css';

export default function SecurityPage() {
  const t = useT();
  // A password change ends the other sessions: the list is read again.
  const [version, setVersion] = useState(0);
  return (
    <Page title={t('account.security.title')} description={t('account.security.description')} className="account-page">
      <TwoFactorSection />
      <PasskeysSection />
      <PasswordSection onChanged={() => setVersion((v) => v + 1)} />
      <SessionsSection version={version} />
    </Page>
  );
}
