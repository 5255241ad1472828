/**
 * The stored spelling of user-sent object keys. msgpackr (the event log's codec and every LMDB
 * store) renames a `__proto__` key to `__proto_` when it decodes, and an object with its own
 * `constructor` key takes msgpackr's class path on encode (with a `toJSON` key too, encoding
 * throws). So these two keys are stored with one more `_`, and so is every key of their families
 * (`__proto__`, `__proto___`, … and `constructor`, `constructor_`, …), which keeps the spelling
 * reversible: ingest escapes traits, properties, context and integrations; lookups (`getPath`)
 * escape their path; what the APIs serve is unescaped, so every key reads back as sent.
 */

const PROTO = '__proto__';
const CONSTRUCTOR = 'constructor';
const UNDERSCORE = 0x5f;

/** Whether `key` is `base` followed by `min` or more underscores. */
function family(key: string, base: string, min: number): boolean {
  if (key.length < base.length + min || !key.startsWith(base)) return false;
  for (let i = base.length; i < key.length; i++) if (key.charCodeAt(i) !== UNDERSCORE) return false;
  return true;
}

/** `__proto__…` and `constructor…`: the keys stored with one more `_`. */
function needsEscape(key: string): boolean {
  const first = key.charCodeAt(0);
  if (first === UNDERSCORE) return family(key, PROTO, 0);
  if (first === 0x63 /* c */) return family(key, CONSTRUCTOR, 0);
  return false;
}

/** A key's stored spelling (most keys: themselves). */
export function escapeKey(key: string): string {
  return needsEscape(key) ? `${key}_` : key;
}

/** The spelling a stored key was sent with. */
export function unescapeKey(key: string): string {
  const first = key.charCodeAt(0);
  if ((first === UNDERSCORE && family(key, PROTO, 1)) || (first === 0x63 && family(key, CONSTRUCTOR, 1))) return key.slice(0, -1);
  return key;
}

/**
 * `value` with every object key at any depth in its stored spelling. Copies only the objects that
 * change (most values are returned as they are). Objects are rebuilt with `Object.fromEntries`,
 * which defines own data properties: a `__proto__` key stays a key.
 */
export function escapeKeys<T>(value: T): T {
  // a read-only pass first: almost no value has such a key, and it allocates nothing
  return anyKey(value, needsEscape) ? mapKeys(value, escapeKey, needsEscape) : value;
}

/** Whether any object key at any depth of `value` satisfies `test`. */
function anyKey(value: unknown, test: (key: string) => boolean): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (anyKey(value[i], test)) return true;
    return false;
  }
  const object = value as Record<string, unknown>;
  for (const key in object) {
    if (test(key) || anyKey(object[key], test)) return true;
  }
  return false;
}

/** `value` with every stored key back in the spelling it was sent with (for what the APIs serve). */
export function unescapeKeys<T>(value: T): T {
  // (primitives first: most served values; a closure made per call costs a name definition under tsx)
  if (value === null || typeof value !== 'object') return value;
  return anyKey(value, isEscaped) ? mapKeys(value, unescapeKey, isEscaped) : value;
}

const isEscaped = (key: string): boolean => unescapeKey(key) !== key;

function mapKeys<T>(value: T, map: (key: string) => string, changes: (key: string) => boolean): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const mapped = mapKeys(item, map, changes);
      if (mapped !== item) (out ??= value.slice())[i] = mapped;
    }
    return (out ?? value) as T;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object);
  // entries are only gathered once something changed (then the keys before it are copied as they are)
  let entries: [string, unknown][] | undefined;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const item = object[key];
    const mapped = mapKeys(item, map, changes);
    if (entries === undefined && (mapped !== item || changes(key))) entries = keys.slice(0, i).map((k) => [k, object[k]]);
    entries?.push([map(key), mapped]);
  }
  return (entries === undefined ? value : Object.fromEntries(entries)) as T;
}
