import type { Messages } from '../../types.ts';

export const sv: Messages = {
  'groups.nav': 'Grupper',
  'groups.title': 'Grupper', 'groups.intro': 'Samla personer i organisationen i grupper och låt en videos åtkomst släppa in bara vissa grupper.',
  'groups.list': 'Grupper', 'groups.none': 'Inga grupper ännu.', 'groups.col.name': 'Grupp', 'groups.col.members': 'Personer', 'groups.col.actions': 'Åtgärder',
  'groups.col.person': 'Person', 'groups.col.role': 'Roll', 'groups.col.added': 'Tillagd',
  'groups.manage': 'Hantera', 'groups.delete': 'Ta bort', 'groups.confirmDelete': 'Ta bort gruppen', 'groups.deleted': 'Gruppen {name} togs bort. Personerna finns kvar i organisationen.',
  'groups.new': 'Ny grupp', 'groups.create': 'Skapa grupp', 'groups.created': 'Gruppen {name} skapades.',
  'groups.name': 'Namn', 'groups.description': 'Beskrivning (valfri)',
  'groups.error.name': 'Ge gruppen ett namn.', 'groups.error.nameLong': 'Ett namn har högst {max} tecken.', 'groups.error.person': 'Välj en person.',
  'groups.detail': 'Grupp: {name}', 'groups.edit': 'Namn och beskrivning', 'groups.save': 'Spara', 'groups.saved': '{name} sparades.',
  'groups.members': 'Personer i gruppen', 'groups.noMembers': 'Ingen är med i gruppen ännu.', 'groups.disabled': 'Avstängd',
  'groups.removeMember': 'Ta bort ur gruppen', 'groups.memberRemoved': '{name} är inte längre med i {group}; uppspelning via gruppen stoppas direkt.',
  'groups.addMember': 'Lägg till en person', 'groups.person': 'Person', 'groups.choosePerson': 'Välj…', 'groups.everyoneIn': 'Alla är redan med i gruppen',
  'groups.add': 'Lägg till i gruppen', 'groups.memberAdded': '{name} är nu med i {group}.',
};
