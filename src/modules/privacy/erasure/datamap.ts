// The personal data the erasure machinery itself keeps: a keyed pseudonym of
// the subject (so a rerun finds its unfinished erasure) and, while an erasure
// runs, its plan (the subject's ids and the object prefixes still to delete).
import type { ColumnDeclaration, DataMap } from '../../../platform/datamap.ts';

const no: ColumnDeclaration = { personal: false };
const purpose = 'carrying out an erasure request to the end, resuming it after a crash, and proving it was done';
const legalBasis = 'GDPR Art. 17 and Art. 5(2) accountability; Art. 6(1)(c) legal obligation';

export const erasureDatamap: DataMap = {
  privacy_erasures: {
    id: no, scope_tenant_id: no, state: no, steps_done: no, created_at: no, updated_at: no, completed_at: no,
    subject_ref: {
      personal: true, category: 'user.unique_id.pseudonymous', subject: 'subject_ref', purpose, legalBasis,
      retention: 'kept as the record that the erasure was carried out', erasure: 'retain',
      retainBasis: 'A keyed pseudonym of the erased person, kept as proof that the request was carried out (Art. 5(2), 17); it names no one without the pseudonym key.',
    },
    plan: {
      personal: true, category: 'user.unique_id', subject: 'subject_ref', purpose, legalBasis,
      retention: 'while the erasure runs; cleared when it is done', erasure: 'delete',
    },
    report: {
      personal: true, category: 'user.unique_id.pseudonymous', subject: 'subject_ref', purpose, legalBasis,
      retention: 'kept as the record that the erasure was carried out', erasure: 'retain',
      retainBasis: 'Counts per table, object location and retained category; holds no identifier of the person, only the erasure\'s own id.',
    },
    requested_by: {
      personal: true, category: 'user.unique_id.pseudonymous', subject: 'requested_by', purpose, legalBasis,
      retention: 'kept as the record that the erasure was carried out', erasure: 'retain',
      retainBasis: 'A keyed pseudonym of the operator or process that asked for the erasure (accountability, Art. 5(2)).',
    },
  },
};
