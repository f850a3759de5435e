// The personal data of the records part: who recorded a transfer basis, and
// the organization's note about the instrument.
import type { DataMap } from '../../../platform/datamap.ts';

const basis = 'GDPR Art. 5(2) and 44–49 accountability for transfers; Art. 28 on the organization\'s instructions';
const retention = 'until the organization withdraws the basis, or with the tenant';

export const recordsDatamap: DataMap = {
  privacy_transfer_bases: {
    id: { personal: false }, tenant_id: { personal: false }, subprocessor: { personal: false }, basis: { personal: false }, created_at: { personal: false },
    note: {
      personal: true, category: 'user.content', subject: 'created_by', purpose: 'documenting the legal basis of transfers to subprocessors', legalBasis: basis, retention, erasure: 'retain',
      retainBasis: 'The note documents the organization\'s transfer instrument (Art. 5(2) accountability); it is the organization\'s record, and the author link itself is removed.',
    },
    created_by: { personal: true, category: 'user.unique_id', subject: 'created_by', purpose: 'knowing who declared a transfer basis (accountability)', legalBasis: basis, retention, erasure: 'null' },
  },
};
