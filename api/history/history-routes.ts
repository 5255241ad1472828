/** The history routes: as-of members and sizes on the management API, timelines, as-of values and explanations on the Profile API. */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { DefinitionRegistry, EventSource, ProfileLocator, StoreHandle } from '../../engine/index.ts';
import { AUDIENCES, COMPUTED_TRAITS } from '../management/present.ts';
import { definitionHistoryRoutes } from './definition-history-routes.ts';
import { profileHistoryRoutes } from './profile-history-routes.ts';

export interface HistoryDeps {
  readonly registry: DefinitionRegistry;
  readonly store: StoreHandle;
  readonly locator: ProfileLocator;
  /** the event log by position (explanations); without it explanations answer 501. */
  readonly events?: EventSource | undefined;
}

/** Mounts after the management and Profile API routes, whose auth middleware covers these paths too. */
export function historyRoutes(router: OpenAPIHono, deps: HistoryDeps): void {
  for (const spec of [AUDIENCES, COMPUTED_TRAITS]) definitionHistoryRoutes(router, spec, deps);
  profileHistoryRoutes(router, deps);
}
