/** The dashboard's files, read once at start: the browser app (`static/`, under a URL carrying a hash of its files, so a browser keeps them until they change) and uPlot from `node_modules`. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const STATIC_DIR = join(dirname(fileURLToPath(import.meta.url)), 'static');
const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

export interface Asset {
  readonly text: string;
  readonly type: string;
}

export interface StaticAssets {
  /** a hash of the app's files: the path segment of their URLs. */
  readonly version: string;
  readonly files: ReadonlyMap<string, Asset>;
  /** the ES modules, for `<link rel="modulepreload">`. */
  readonly modules: readonly string[];
  /** uPlot's script and stylesheet, by file name. */
  readonly vendor: ReadonlyMap<string, Asset>;
}

export function loadStaticAssets(): StaticAssets {
  const files = new Map<string, Asset>();
  const hash = createHash('sha256');
  for (const name of readdirSync(STATIC_DIR).sort()) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type === undefined || !/^[a-z0-9-]+\.(js|css)$/.test(name)) continue;
    const text = readFileSync(join(STATIC_DIR, name), 'utf8');
    files.set(name, { text, type });
    hash.update(name).update('\u0000').update(text);
  }
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot'));
  const vendor = new Map<string, Asset>(
    ['uPlot.iife.min.js', 'uPlot.min.css'].map((name) => [name, { text: readFileSync(join(uplot, name), 'utf8'), type: TYPES[name.slice(name.lastIndexOf('.'))]! }]),
  );
  return { version: hash.digest('hex').slice(0, 12), files, modules: [...files.keys()].filter((n) => n.endsWith('.js')), vendor };
}
