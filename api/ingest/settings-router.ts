/** `GET /v1/projects/:writeKey/settings`: the minimal settings analytics.js and the mobile libraries fetch from their CDN. */
import { Hono } from 'hono';
import type { SpaceDirectory } from '../../engine/index.ts';
import { HttpError } from '../http-error.ts';
import { trackingCors } from './tracking-cors.ts';

export interface SettingsDeps {
  readonly spaces: SpaceDirectory;
  /** where clients should send events (`host[:port][/path]`, no scheme); default: this request's host + `/v1`. */
  readonly publicApiHost?: string | undefined;
}

/**
 * Point a client's CDN setting at Flock (analytics.js `cdnURL`, mobile `cdnHost`) and it reads
 * `integrations["Segment.io"].apiHost` from here and sends every event to Flock. No device-mode
 * destinations are listed, and metrics sampling is 0 so no client posts metrics elsewhere.
 */
export function settingsRouter(deps: SettingsDeps): Hono {
  const router = new Hono();
  router.use('/projects/:writeKey/settings', trackingCors);
  router.get('/projects/:writeKey/settings', async (c) => {
    const writeKey = c.req.param('writeKey');
    const grant = await deps.spaces.byWriteKey(writeKey);
    if (grant === null) throw new HttpError(404, 'unknown_write_key', 'no source has this write key');
    const url = new URL(c.req.url);
    const apiHost = deps.publicApiHost ?? `${c.req.header('host') ?? url.host}/v1`;
    // behind a TLS-terminating proxy the request arrives as http; the proxy says what the client used.
    const protocol = (c.req.header('x-forwarded-proto') ?? url.protocol.replace(':', '')).split(',')[0]?.trim() === 'https' ? 'https' : 'http';
    c.header('Cache-Control', 'public, max-age=60');
    return c.json(projectSettings(writeKey, apiHost, protocol));
  });
  return router;
}

export function projectSettings(writeKey: string, apiHost: string, protocol: 'http' | 'https') {
  return {
    integrations: {
      'Segment.io': {
        apiKey: writeKey,
        apiHost,
        protocol,
        unbundledIntegrations: [],
        addBundledMetadata: true,
        maybeBundledConfigIds: {},
      },
    },
    plan: {
      track: { __default: { enabled: true, integrations: {} } },
      identify: { __default: { traits: {} } },
      group: { __default: { traits: {} } },
    },
    edgeFunction: {},
    analyticsNextEnabled: true,
    middlewareSettings: {},
    enabledMiddleware: {},
    metrics: { sampleRate: 0 },
    legacyVideoPluginsEnabled: false,
    remotePlugins: [],
  };
}
