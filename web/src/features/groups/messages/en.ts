import type { Messages } from '../../types.ts';

export const en: Messages = {
  'groups.nav': 'Groups',
  'groups.title': 'Groups', 'groups.intro': 'Gather people of your organization into groups, then let a video’s access admit only some groups.',
  'groups.list': 'Groups', 'groups.none': 'No groups yet.', 'groups.col.name': 'Group', 'groups.col.members': 'People', 'groups.col.actions': 'Actions',
  'groups.col.person': 'Person', 'groups.col.role': 'Role', 'groups.col.added': 'Added',
  'groups.manage': 'Manage', 'groups.delete': 'Delete', 'groups.confirmDelete': 'Delete group', 'groups.deleted': 'The group {name} was deleted. Its people stay in the organization.',
  'groups.new': 'New group', 'groups.create': 'Create group', 'groups.created': 'The group {name} was created.',
  'groups.name': 'Name', 'groups.description': 'Description (optional)',
  'groups.error.name': 'Give the group a name.', 'groups.error.nameLong': 'A name has at most {max} characters.', 'groups.error.person': 'Choose a person.',
  'groups.detail': 'Group: {name}', 'groups.edit': 'Name and description', 'groups.save': 'Save', 'groups.saved': '{name} saved.',
  'groups.members': 'People in the group', 'groups.noMembers': 'Nobody is in this group yet.', 'groups.disabled': 'Disabled',
  'groups.removeMember': 'Remove from group', 'groups.memberRemoved': '{name} is no longer in {group}; playback through the group stops at once.',
  'groups.addMember': 'Add a person', 'groups.person': 'Person', 'groups.choosePerson': 'Choose…', 'groups.everyoneIn': 'Everyone is in this group',
  'groups.add': 'Add to group', 'groups.memberAdded': '{name} is now in {group}.',
};
