import type { Messages } from '../../types.ts';

export const de: Messages = {
  'groups.nav': 'Gruppen',
  'groups.title': 'Gruppen', 'groups.intro': 'Fassen Sie Personen Ihrer Organisation in Gruppen zusammen und lassen Sie ein Video nur für bestimmte Gruppen zu.',
  'groups.list': 'Gruppen', 'groups.none': 'Noch keine Gruppen.', 'groups.col.name': 'Gruppe', 'groups.col.members': 'Personen', 'groups.col.actions': 'Aktionen',
  'groups.col.person': 'Person', 'groups.col.role': 'Rolle', 'groups.col.added': 'Hinzugefügt',
  'groups.manage': 'Verwalten', 'groups.delete': 'Löschen', 'groups.confirmDelete': 'Gruppe löschen', 'groups.deleted': 'Die Gruppe {name} wurde gelöscht. Ihre Personen bleiben in der Organisation.',
  'groups.new': 'Neue Gruppe', 'groups.create': 'Gruppe anlegen', 'groups.created': 'Die Gruppe {name} wurde angelegt.',
  'groups.name': 'Name', 'groups.description': 'Beschreibung (optional)',
  'groups.error.name': 'Geben Sie der Gruppe einen Namen.', 'groups.error.nameLong': 'Ein Name hat höchstens {max} Zeichen.', 'groups.error.person': 'Wählen Sie eine Person.',
  'groups.detail': 'Gruppe: {name}', 'groups.edit': 'Name und Beschreibung', 'groups.save': 'Speichern', 'groups.saved': '{name} gespeichert.',
  'groups.members': 'Personen in der Gruppe', 'groups.noMembers': 'Noch niemand ist in dieser Gruppe.', 'groups.disabled': 'Deaktiviert',
  'groups.removeMember': 'Aus der Gruppe entfernen', 'groups.memberRemoved': '{name} ist nicht mehr in {group}; Wiedergabe über die Gruppe endet sofort.',
  'groups.addMember': 'Person hinzufügen', 'groups.person': 'Person', 'groups.choosePerson': 'Auswählen…', 'groups.everyoneIn': 'Alle sind bereits in der Gruppe',
  'groups.add': 'Zur Gruppe hinzufügen', 'groups.memberAdded': '{name} ist jetzt in {group}.',
};
