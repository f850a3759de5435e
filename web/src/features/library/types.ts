// The library's API shapes, taken from the generated OpenAPI types so a
// change on the server shows up here as a type error.
import type { paths } from '../../api/schema';

type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;
type Ok<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer A } ? Json<A> : R extends { 201: infer B } ? Json<B> : never
  : never;

export type VideoPage = Ok<'/api/v1/videos', 'get'>;
export type Video = VideoPage['items'][number];
export type Facets = NonNullable<VideoPage['facets']>;
export type VideoQuery = NonNullable<paths['/api/v1/videos']['get']['parameters']['query']>;
export type Collection = Ok<'/api/v1/collections', 'get'>['items'][number];
export type CustomField = Ok<'/api/v1/custom-fields', 'get'>['items'][number];
export type AccessView = Ok<'/api/v1/videos/{id}/access', 'get'>;
export type Audience = AccessView['audiences'][number];
export type Conditions = AccessView['conditions'];
export type ShareLink = Ok<'/api/v1/videos/{id}/links', 'get'>['items'][number];
export type CreatedLink = Ok<'/api/v1/videos/{id}/links', 'post'>;
export type Caption = Ok<'/api/v1/videos/{id}/captions', 'get'>['items'][number];
export type Attachment = Ok<'/api/v1/videos/{id}/attachments', 'get'>['items'][number];
export type Versions = Ok<'/api/v1/videos/{id}/versions', 'get'>;
export type VideoAnalytics = Ok<'/api/v1/analytics/videos/{id}', 'get'>;
export type TrashItem = Ok<'/api/v1/trash', 'get'>['items'][number];
export type UploadView = Ok<'/api/v1/uploads/{id}', 'get'>;
export type MemberRole = 'owner' | 'admin' | 'editor' | 'viewer';

