import type { Locale } from '../emails.ts';

export const de: Locale = {
  invitation: ({ inviterName, tenantName, acceptUrl, expiresAt }, f) => ({
    subject: `${inviterName} hat Sie zu ${tenantName} eingeladen`,
    blocks: [
      `${inviterName} hat Sie eingeladen, ${tenantName} auf Haven beizutreten.`,
      { label: 'Einladung annehmen', url: acceptUrl },
      `Die Einladung ist bis ${f.date(expiresAt)} gültig.`,
      'Falls Sie diese Einladung nicht erwartet haben, können Sie diese E-Mail ignorieren.',
    ],
  }),
  verify_email: ({ verifyUrl }) => ({
    subject: 'Bestätigen Sie Ihre E-Mail-Adresse',
    blocks: [
      'Bitte bestätigen Sie über den folgenden Link, dass diese Adresse Ihnen gehört.',
      { label: 'E-Mail-Adresse bestätigen', url: verifyUrl },
      'Falls Sie kein Haven-Konto angelegt haben, können Sie diese E-Mail ignorieren.',
    ],
  }),
  password_reset: ({ resetUrl, validMinutes }, f) => ({
    subject: 'Passwort zurücksetzen',
    blocks: [
      'Wir haben eine Anfrage erhalten, das Passwort Ihres Kontos zurückzusetzen.',
      { label: 'Neues Passwort festlegen', url: resetUrl },
      `Der Link ist ${f.minutes(validMinutes)} lang gültig und funktioniert nur einmal.`,
      'Falls Sie das nicht angefordert haben, ignorieren Sie diese E-Mail – Ihr Passwort bleibt unverändert.',
    ],
  }),
  account_locked: ({ lockedUntil, resetUrl }, f) => ({
    subject: 'Ihr Konto wurde vorübergehend gesperrt',
    blocks: [
      `Ihr Konto wurde nach zu vielen fehlgeschlagenen Anmeldeversuchen gesperrt. Ab ${f.date(lockedUntil)} können Sie sich wieder anmelden.`,
      'Falls nicht Sie versucht haben, sich anzumelden, versucht möglicherweise jemand, Ihr Passwort zu erraten. Legen Sie in diesem Fall hier ein neues fest:',
      { label: 'Passwort zurücksetzen', url: resetUrl },
    ],
  }),
  new_login: ({ at, browser, network }, f) => ({
    subject: 'Neue Anmeldung bei Ihrem Konto',
    blocks: [
      'Soeben hat sich jemand bei Ihrem Konto angemeldet.',
      `Zeit: ${f.date(at)}\nBrowser: ${browser}\nNetzwerk: ${network} (Pseudonym der IP-Adresse)`,
      'Wenn Sie das waren, müssen Sie nichts tun. Andernfalls ändern Sie sofort Ihr Passwort und melden Sie alle anderen Sitzungen ab.',
    ],
  }),
  dsar_code: ({ code, validMinutes }, f) => ({
    subject: 'Ihr Bestätigungscode',
    blocks: [
      'Mit diesem Code bestätigen Sie Ihre Anfrage zu Ihren personenbezogenen Daten:',
      { code },
      `Der Code ist ${f.minutes(validMinutes)} lang gültig. Geben Sie ihn an niemanden weiter.`,
      'Falls Sie keine solche Anfrage gestellt haben, können Sie diese E-Mail ignorieren.',
    ],
  }),
  export_ready: ({ downloadUrl, expiresAt }, f) => ({
    subject: 'Ihr Datenexport ist bereit',
    blocks: [
      'Der Export Ihrer personenbezogenen Daten steht zum Herunterladen bereit.',
      { label: 'Export herunterladen', url: downloadUrl },
      `Der Link funktioniert nur einmal und ist bis ${f.date(expiresAt)} gültig.`,
    ],
  }),
  footer: 'Dies ist eine automatische Nachricht von Haven. Antworten werden nicht gelesen.',
};
