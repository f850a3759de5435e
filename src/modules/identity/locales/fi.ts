import type { Locale } from '../emails.ts';

// Names are kept in their base form ("organisaatioon X"), since Finnish would
// otherwise inflect a name we cannot know the case endings of.
export const fi: Locale = {
  invitation: ({ inviterName, tenantName, acceptUrl, expiresAt }, f) => ({
    subject: `Kutsu organisaatioon ${tenantName}`,
    blocks: [
      `${inviterName} on kutsunut sinut liittymään Haven-palvelussa organisaatioon ${tenantName}.`,
      { label: 'Hyväksy kutsu', url: acceptUrl },
      `Kutsu on voimassa ${f.date(expiresAt)} asti.`,
      'Jos et odottanut tätä kutsua, voit jättää viestin huomiotta.',
    ],
  }),
  verify_email: ({ verifyUrl }) => ({
    subject: 'Vahvista sähköpostiosoitteesi',
    blocks: [
      'Vahvista, että tämä osoite kuuluu sinulle, avaamalla alla oleva linkki.',
      { label: 'Vahvista sähköpostiosoite', url: verifyUrl },
      'Jos et ole luonut Haven-tiliä, voit jättää viestin huomiotta.',
    ],
  }),
  password_reset: ({ resetUrl, validMinutes }, f) => ({
    subject: 'Salasanan vaihtaminen',
    blocks: [
      'Saimme pyynnön vaihtaa tilisi salasanan.',
      { label: 'Valitse uusi salasana', url: resetUrl },
      `Linkki on voimassa ${f.minutes(validMinutes)} ja toimii vain kerran.`,
      'Jos et pyytänyt tätä, voit jättää viestin huomiotta – salasanaasi ei ole muutettu.',
    ],
  }),
  account_locked: ({ lockedUntil, resetUrl }, f) => ({
    subject: 'Tilisi on lukittu tilapäisesti',
    blocks: [
      `Tilisi lukittiin liian monen epäonnistuneen kirjautumisyrityksen jälkeen. Lukitus päättyy ${f.date(lockedUntil)}.`,
      'Jos et itse yrittänyt kirjautua, joku saattaa yrittää arvata salasanaasi. Vaihda silloin salasana täällä:',
      { label: 'Vaihda salasana', url: resetUrl },
    ],
  }),
  new_login: ({ at, browser, network }, f) => ({
    subject: 'Uusi kirjautuminen tilillesi',
    blocks: [
      'Tilillesi kirjauduttiin juuri.',
      `Aika: ${f.date(at)}\nSelain: ${browser}\nVerkko: ${network} (IP-osoitteen pseudonyymi)`,
      'Jos tämä olit sinä, sinun ei tarvitse tehdä mitään. Muussa tapauksessa vaihda salasanasi heti ja kirjaa kaikki muut istunnot ulos.',
    ],
  }),
  dsar_code: ({ code, validMinutes }, f) => ({
    subject: 'Vahvistuskoodisi',
    blocks: [
      'Vahvista henkilötietojasi koskeva pyyntö tällä koodilla:',
      { code },
      `Koodi on voimassa ${f.minutes(validMinutes)}. Älä kerro sitä kenellekään.`,
      'Jos et tehnyt tällaista pyyntöä, voit jättää viestin huomiotta.',
    ],
  }),
  export_ready: ({ downloadUrl, expiresAt }, f) => ({
    subject: 'Tietojesi vienti on valmis',
    blocks: [
      'Henkilötietojesi vientitiedosto on valmis ladattavaksi.',
      { label: 'Lataa tiedosto', url: downloadUrl },
      `Linkki toimii vain kerran ja on voimassa ${f.date(expiresAt)} asti.`,
    ],
  }),
  footer: 'Tämä on Havenin automaattinen viesti. Vastauksia ei lueta.',
};
