import type { Messages } from '../../types.ts';

export const fi: Messages = {
  'portal.title': 'Videot',
  'portal.description': 'Organisaation {organization} julkiset videot.',
  'portal.list_label': 'Organisaation {organization} videot',
  'portal.empty': 'Ei vielä julkisia videoita',
  'portal.empty_body': 'Kun organisaatio julkaisee videoita kaikille, ne näkyvät tässä.',
  'portal.duration': 'Kesto {duration}',
  'portal.published': 'Julkaistu {date}',
  'portal.more': 'Näytä lisää',
};
