// Shorthands for request and response types of the generated schema.
import type { paths } from './schema.d.ts';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type JsonOf<R> = R extends { content: { 'application/json': infer J } } ? J : never;

/** The JSON body of a successful answer (200, 201 or 202) of `METHOD path`. */
export type ResponseOf<P extends keyof paths, M extends Method = 'get'> = Op<P, M> extends { responses: infer R }
  ? R extends Record<number, unknown>
    ? JsonOf<R[200]> | JsonOf<R extends { 201: infer C } ? C : never> | JsonOf<R extends { 202: infer A } ? A : never>
    : never
  : never;

/** The JSON request body of `METHOD path`. */
export type BodyOf<P extends keyof paths, M extends Method = 'post'> = Op<P, M> extends { requestBody?: infer B }
  ? JsonOf<NonNullable<B>>
  : never;

export type SessionView = ResponseOf<'/api/v1/auth/session'>;
