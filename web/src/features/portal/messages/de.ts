import type { Messages } from '../../types.ts';

export const de: Messages = {
  'portal.title': 'Videos',
  'portal.description': 'Öffentliche Videos von {organization}.',
  'portal.list_label': 'Videos von {organization}',
  'portal.empty': 'Noch keine öffentlichen Videos',
  'portal.empty_body': 'Sobald diese Organisation Videos für alle veröffentlicht, erscheinen sie hier.',
  'portal.duration': 'Länge {duration}',
  'portal.published': 'Veröffentlicht am {date}',
  'portal.more': 'Mehr anzeigen',
};
