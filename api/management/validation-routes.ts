/** `POST /spaces/:spaceId/{audiences|computed-traits}/validations`: parse a query as the space would (no preview, nothing stored) — its diagnostics at line and column, its references and its JSON form. */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import { definitionToJson, type DefinitionRegistry } from '../../engine/index.ts';
import type { KindSpec } from './present.ts';
import { publicApiErrorSchema, spaceParams, targetTypeSchema } from './schemas.ts';

const validationInputSchema = z
  .strictObject({
    definition: z.strictObject({ query: z.string().max(20_000), type: targetTypeSchema.default('USERS') }),
    /** the key of the definition being edited: a reference cycle through it is a diagnostic. */
    key: z.string().max(120).optional(),
  })
  .meta({ id: 'ValidationInput' });

const validationSchema = z
  .object({
    valid: z.boolean(),
    diagnostics: z.array(z.object({ code: z.string(), message: z.string(), line: z.number().int(), column: z.number().int() })),
    references: z.array(z.string()),
    /** the query's JSON form (the AST without spans); null when there are diagnostics. */
    json: z.unknown(),
  })
  .meta({ id: 'Validation' });

export function validationRoutes(router: OpenAPIHono, spec: KindSpec, deps: { readonly registry: Pick<DefinitionRegistry, 'validate'> }): void {
  router.openapi(
    createRoute({
      method: 'post',
      path: `/spaces/{spaceId}/${spec.path}/validations`,
      tags: [spec.kind === 'audience' ? 'Audiences' : 'Computed traits'],
      summary: `Check the query of ${spec.noun === 'audience' ? 'an audience' : 'a computed trait'} as you type: diagnostics with line and column, references, the JSON form`,
      security: [{ managementToken: [] }],
      request: { params: spaceParams, body: { required: true, content: { 'application/json': { schema: validationInputSchema } } } },
      responses: {
        200: { description: 'the diagnostics (empty when the query is valid)', content: { 'application/json': { schema: z.object({ data: validationSchema }) } } },
        400: { description: 'malformed request (input-validation)', content: { 'application/json': { schema: publicApiErrorSchema } } },
        401: { description: 'no management token of this space', content: { 'application/json': { schema: publicApiErrorSchema } } },
      },
    }),
    (c) => {
      const { spaceId } = c.req.valid('param');
      const body = c.req.valid('json');
      const result = deps.registry.validate(spaceId, {
        kind: spec.kind,
        type: body.definition.type,
        query: body.definition.query,
        ...(body.key === undefined ? {} : { key: body.key }),
      });
      return c.json(
        {
          data: {
            valid: result.diagnostics.length === 0,
            diagnostics: result.diagnostics.map((d) => ({ code: d.code, message: d.message, line: d.line, column: d.column })),
            references: [...result.references],
            json: result.definition === null ? null : definitionToJson(result.definition),
          },
        },
        200,
      );
    },
  );
}
