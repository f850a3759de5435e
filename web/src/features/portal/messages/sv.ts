import type { Messages } from '../../types.ts';

export const sv: Messages = {
  'portal.title': 'Videor',
  'portal.description': 'Offentliga videor från {organization}.',
  'portal.list_label': 'Videor från {organization}',
  'portal.empty': 'Inga offentliga videor ännu',
  'portal.empty_body': 'När organisationen publicerar videor för alla visas de här.',
  'portal.duration': 'Längd {duration}',
  'portal.published': 'Publicerad {date}',
  'portal.more': 'Visa fler',
};
