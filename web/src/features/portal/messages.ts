import type { Language, Messages } from '../types.ts';

export const portalMessages: Record<Language, Messages> = {
  en: {
    'portal.title': 'Videos',
    'portal.description': 'Public videos from {organization}.',
    'portal.list_label': 'Videos from {organization}',
    'portal.empty': 'No public videos yet',
    'portal.empty_body': 'When this organization publishes videos for everyone, they appear here.',
    'portal.duration': 'Length {duration}',
    'portal.published': 'Published {date}',
    'portal.more': 'Show more',
  },
  sv: {
    'portal.title': 'Videor',
    'portal.description': 'Offentliga videor från {organization}.',
    'portal.list_label': 'Videor från {organization}',
    'portal.empty': 'Inga offentliga videor ännu',
    'portal.empty_body': 'När organisationen publicerar videor för alla visas de här.',
    'portal.duration': 'Längd {duration}',
    'portal.published': 'Publicerad {date}',
    'portal.more': 'Visa fler',
  },
  fi: {
    'portal.title': 'Videot',
    'portal.description': 'Organisaation {organization} julkiset videot.',
    'portal.list_label': 'Organisaation {organization} videot',
    'portal.empty': 'Ei vielä julkisia videoita',
    'portal.empty_body': 'Kun organisaatio julkaisee videoita kaikille, ne näkyvät tässä.',
    'portal.duration': 'Kesto {duration}',
    'portal.published': 'Julkaistu {date}',
    'portal.more': 'Näytä lisää',
  },
  de: {
    'portal.title': 'Videos',
    'portal.description': 'Öffentliche Videos von {organization}.',
    'portal.list_label': 'Videos von {organization}',
    'portal.empty': 'Noch keine öffentlichen Videos',
    'portal.empty_body': 'Sobald diese Organisation Videos für alle veröffentlicht, erscheinen sie hier.',
    'portal.duration': 'Länge {duration}',
    'portal.published': 'Veröffentlicht am {date}',
    'portal.more': 'Mehr anzeigen',
  },
};
