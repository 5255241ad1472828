/** The management API (Segment Public API shapes, Bearer management token per space): definitions, previews, the explorer, CSV exports and destinations. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DefinitionRegistry, DestinationStore, ExplorerStore, ExportJobs, SpaceDirectory, StoreHandle } from '../../engine/index.ts';
import type { Logger } from '../logger.ts';
import { mountManagementAuth } from './bearer-auth.ts';
import { definitionRoutes } from './definitions-router.ts';
import { destinationRoutes } from './destination-routes.ts';
import { explorerRoutes } from './explorer-routes.ts';
import type { ProfileLocator } from '../../engine/index.ts';
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
  /** destinations (engine/destinations): with it, /spaces/:spaceId/destinations is served. */
  readonly destinations?: DestinationStore | undefined;
  /** the change log's newest position (destination lag). */
  readonly changeLogLastSeq?: (() => Promise<number>) | undefined;
  /** finds a profile by any identifier (the explorer's member search). */
  readonly locator: ProfileLocator;
}

export function managementRoutes(router: OpenAPIHono, deps: ManagementDeps): void {
  mountManagementAuth(router, deps.spaces);
  for (const spec of [AUDIENCES, COMPUTED_TRAITS]) {
    validationRoutes(router, spec, deps);
    definitionRoutes(router, spec, deps);
    explorerRoutes(router, spec, deps);
    exportRoutes(router, spec, deps);
  }
  if (deps.destinations !== undefined) {
    destinationRoutes(router, { destinations: deps.destinations, registry: deps.registry, changeLogLastSeq: deps.changeLogLastSeq, clock: deps.clock, logger: deps.logger });
  }
}
