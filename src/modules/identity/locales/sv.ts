import type { Locale } from '../emails.ts';

export const sv: Locale = {
  invitation: ({ inviterName, tenantName, acceptUrl, expiresAt }, f) => ({
    subject: `${inviterName} har bjudit in dig till ${tenantName}`,
    blocks: [
      `${inviterName} har bjudit in dig att gå med i ${tenantName} på Haven.`,
      { label: 'Acceptera inbjudan', url: acceptUrl },
      `Inbjudan gäller till ${f.date(expiresAt)}.`,
      'Om du inte väntade dig den här inbjudan kan du bortse från meddelandet.',
    ],
  }),
  verify_email: ({ verifyUrl }) => ({
    subject: 'Bekräfta din e-postadress',
    blocks: [
      'Bekräfta att adressen tillhör dig genom att öppna länken nedan.',
      { label: 'Bekräfta e-postadressen', url: verifyUrl },
      'Om du inte har skapat något konto på Haven kan du bortse från meddelandet.',
    ],
  }),
  password_reset: ({ resetUrl, validMinutes }, f) => ({
    subject: 'Återställ ditt lösenord',
    blocks: [
      'Vi har fått en begäran om att återställa lösenordet till ditt konto.',
      { label: 'Välj ett nytt lösenord', url: resetUrl },
      `Länken gäller i ${f.minutes(validMinutes)} och kan bara användas en gång.`,
      'Om det inte var du som bad om det här kan du bortse från meddelandet – ditt lösenord är oförändrat.',
    ],
  }),
  account_locked: ({ lockedUntil, resetUrl }, f) => ({
    subject: 'Ditt konto har låsts tillfälligt',
    blocks: [
      `Ditt konto har låsts efter för många misslyckade inloggningsförsök. Du kan logga in igen efter ${f.date(lockedUntil)}.`,
      'Om det inte var du som försökte logga in kan någon försöka gissa ditt lösenord. Välj i så fall ett nytt här:',
      { label: 'Återställ lösenordet', url: resetUrl },
    ],
  }),
  new_login: ({ at, browser, network }, f) => ({
    subject: 'Ny inloggning på ditt konto',
    blocks: [
      'Någon loggade nyss in på ditt konto.',
      `Tid: ${f.date(at)}\nWebbläsare: ${browser}\nNätverk: ${network} (en pseudonym för IP-adressen)`,
      'Om det var du behöver du inte göra något. Om inte, byt lösenord direkt och logga ut alla andra sessioner.',
    ],
  }),
  dsar_code: ({ code, validMinutes }, f) => ({
    subject: 'Din verifieringskod',
    blocks: [
      'Använd den här koden för att bekräfta din begäran om dina personuppgifter:',
      { code },
      `Koden gäller i ${f.minutes(validMinutes)}. Dela den inte med någon.`,
      'Om du inte har gjort någon sådan begäran kan du bortse från meddelandet.',
    ],
  }),
  export_ready: ({ downloadUrl, expiresAt }, f) => ({
    subject: 'Din dataexport är klar',
    blocks: [
      'Exporten av dina personuppgifter är klar att ladda ner.',
      { label: 'Ladda ner exporten', url: downloadUrl },
      `Länken kan bara användas en gång och gäller till ${f.date(expiresAt)}.`,
    ],
  }),
  footer: 'Det här är ett automatiskt meddelande från Haven. Svar läses inte.',
};
