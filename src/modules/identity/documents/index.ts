// The platform's first consent documents, published on first start. Operators
// publish later versions (and tenants their own documents) through the API.
export interface SeedDocument { kind: 'terms' | 'privacy_notice' | 'dpa'; title: string; body: string; audience: 'all' | 'owners'; legalBasis: 'contract' | 'consent' | 'legal_obligation' }

export const seedDocuments: SeedDocument[] = [
  {
    kind: 'terms',
    title: 'Terms of use',
    audience: 'all',
    legalBasis: 'contract',
    body: [
      'You use this Haven installation on behalf of the organization that invited you.',
      'Your organization owns the videos and data it stores here; the operator processes them only on its instructions.',
      'Do not upload material you have no right to share, and keep your credentials to yourself.',
      'If you decline, you cannot use this service; your account stays as it is until your organization removes it.',
    ].join('\n\n'),
  },
  {
    kind: 'privacy_notice',
    title: 'Privacy notice',
    audience: 'all',
    legalBasis: 'contract',
    body: [
      'We process your name, email address, sign-in records and what you do in the service to provide it and to keep it secure.',
      'Every access to your account by administrators or support staff is recorded, and you can see those records yourself.',
      'You can download everything held about you, and ask for it to be corrected or erased, from your account page.',
      'Your data stays in the region your organization chose, encrypted at rest and in transit.',
    ].join('\n\n'),
  },
  {
    kind: 'dpa',
    title: 'Data processing agreement',
    audience: 'owners',
    legalBasis: 'contract',
    body: [
      'As owner of your organization you accept, on its behalf, that the operator processes personal data as its processor under Article 28 GDPR.',
      'The operator processes data only on documented instructions, keeps it in the chosen region, engages subprocessors only as listed in the records of processing, and deletes or returns all data when the contract ends.',
    ].join('\n\n'),
  },
];
