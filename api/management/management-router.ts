/** The management API (Segment Public API shapes, Bearer management token per space): definitions, previews, the explorer and CSV exports. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DefinitionRegistry, ExplorerStore, ExportJobs, SpaceDirectory, StoreHandle } from '../../engine/index.ts';
import type { Logger } from '../logger.ts';
import { managementAuth } from './bearer-auth.ts';
import { definitionRoutes } from './definitions-router.ts';
import { explorerRoutes } from './explorer-routes.ts';
import { exportRoutes } from './export-routes.ts';
import { validationRoutes } from './validation-routes.ts';
import { AUDIENCES, COMPUTED_TRAITS } from './present.ts';

export interface ManagementDeps {
  readonly registry: DefinitionRegistry;
  /** the engine's checkpoint store, read-only: sizes and members. */
  readonly store: StoreHandle;
  readonly explorer?: ExplorerStore | undefined;
  readonly spaces: SpaceDirectory;
  readonly clock: () => number;
  readonly logger: Logger;
  /** CSV export jobs (engine/export). */
  readonly exports: ExportJobs;
}

export function managementRoutes(router: OpenAPIHono, deps: ManagementDeps): void {
  router.openAPIRegistry.registerComponent('securitySchemes', 'managementToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'a management token of the space (spaces file `managementTokens`)',
  });
  router.use('/spaces/:spaceId/*', managementAuth(deps.spaces));
  for (const spec of [AUDIENCES, COMPUTED_TRAITS]) {
    validationRoutes(router, spec, deps);
    definitionRoutes(router, spec, deps);
    explorerRoutes(router, spec, deps);
    exportRoutes(router, spec, deps);
  }
}
