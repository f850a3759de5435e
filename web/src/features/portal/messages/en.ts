import type { Messages } from '../../types.ts';

export const en: Messages = {
  'portal.title': 'Videos',
  'portal.description': 'Public videos from {organization}.',
  'portal.list_label': 'Videos from {organization}',
  'portal.empty': 'No public videos yet',
  'portal.empty_body': 'When this organization publishes videos for everyone, they appear here.',
  'portal.duration': 'Length {duration}',
  'portal.published': 'Published {date}',
  'portal.more': 'Show more',
};
