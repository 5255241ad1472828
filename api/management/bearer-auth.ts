/** Management API auth: `Authorization: Bearer <management token>` of the space in the path; anything else is 401 with the same message. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { SpaceDirectory } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';

export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return m?.[1];
}

/**
 * Admits a request to `/spaces/:spaceId/…` only with a management token of that space. An unknown
 * token, a write key, an access token and another space's token get the same answer, so a caller
 * learns nothing about other spaces.
 */
export function managementAuth(spaces: SpaceDirectory): MiddlewareHandler {
  return async (c, next) => {
    c.set('errorEnvelope', 'public-api');
    const token = bearerToken(c.req.header('authorization'));
    if (token === undefined) throw new HttpError(401, 'unauthorized', 'send a management token as "Authorization: Bearer <token>"');
    const spaceId = c.req.param('spaceId') ?? '';
    const grant = (await spaces.byManagementToken?.(token)) ?? null;
    if (grant === null || grant.space.id !== spaceId) throw new HttpError(401, 'unauthorized', `the token is not a management token of space "${spaceId}"`);
    await next();
  };
}

/** The management API's auth on `router`: the bearer scheme in its OpenAPI document, and the check on every `/spaces/:spaceId/*` route. */
export function mountManagementAuth(router: OpenAPIHono, spaces: SpaceDirectory): void {
  router.openAPIRegistry.registerComponent('securitySchemes', 'managementToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'a management token of the space (spaces file `managementTokens`)',
  });
  router.use('/spaces/:spaceId/*', managementAuth(spaces));
}
