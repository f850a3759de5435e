// The subject locator, shared by export (dsar/) and erasure (erasure/): who a
// person is in Haven's tables, and which rows the data map says are theirs.
export { locateSubject, locateSubjectIn, type SubjectIdentities, type SubjectQuery } from './locate.ts';
export { columnTypes, linksOf, resolveLink, subjectRows, type SubjectLink, type SubjectPredicate, type SubjectRows, type SubjectTableRows, type Unlocatable } from './rows.ts';
