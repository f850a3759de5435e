import type { Messages } from '../../types.ts';

export const fi: Messages = {
  'groups.nav': 'Ryhmät',
  'groups.title': 'Ryhmät', 'groups.intro': 'Kokoa organisaation ihmiset ryhmiin ja päästä videon katsojiksi vain tietyt ryhmät.',
  'groups.list': 'Ryhmät', 'groups.none': 'Ei vielä ryhmiä.', 'groups.col.name': 'Ryhmä', 'groups.col.members': 'Henkilöt', 'groups.col.actions': 'Toiminnot',
  'groups.col.person': 'Henkilö', 'groups.col.role': 'Rooli', 'groups.col.added': 'Lisätty',
  'groups.manage': 'Hallitse', 'groups.delete': 'Poista', 'groups.confirmDelete': 'Poista ryhmä', 'groups.deleted': 'Ryhmä {name} poistettiin. Sen henkilöt pysyvät organisaatiossa.',
  'groups.new': 'Uusi ryhmä', 'groups.create': 'Luo ryhmä', 'groups.created': 'Ryhmä {name} luotiin.',
  'groups.name': 'Nimi', 'groups.description': 'Kuvaus (valinnainen)',
  'groups.error.name': 'Anna ryhmälle nimi.', 'groups.error.nameLong': 'Nimessä on enintään {max} merkkiä.', 'groups.error.person': 'Valitse henkilö.',
  'groups.detail': 'Ryhmä: {name}', 'groups.edit': 'Nimi ja kuvaus', 'groups.save': 'Tallenna', 'groups.saved': '{name} tallennettiin.',
  'groups.members': 'Ryhmän henkilöt', 'groups.noMembers': 'Ryhmässä ei ole vielä ketään.', 'groups.disabled': 'Poistettu käytöstä',
  'groups.removeMember': 'Poista ryhmästä', 'groups.memberRemoved': '{name} ei ole enää ryhmässä {group}; ryhmän kautta alkanut toisto pysähtyy heti.',
  'groups.addMember': 'Lisää henkilö', 'groups.person': 'Henkilö', 'groups.choosePerson': 'Valitse…', 'groups.everyoneIn': 'Kaikki ovat jo ryhmässä',
  'groups.add': 'Lisää ryhmään', 'groups.memberAdded': '{name} on nyt ryhmässä {group}.',
};
