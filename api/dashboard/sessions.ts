/** Dashboard sessions: which spaces a browser signed in to (with which tokens), the space it shows, and its CSRF token — kept in memory, keyed by an unguessable cookie. */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** What a session may do in one space: a management token (definitions, explorer), an access token (profiles, read-only), or both. */
export interface SpaceAccess {
  readonly spaceId: string;
  readonly name: string;
  readonly managementToken?: string | undefined;
  readonly accessToken?: string | undefined;
}

export interface Session {
  readonly id: string;
  /** sent with every state-changing request (header `X-CSRF-Token` or form field `csrf`). */
  readonly csrf: string;
  readonly spaces: ReadonlyMap<string, SpaceAccess>;
  /** the space the dashboard shows; requests for any other space are refused. */
  readonly current: string;
  expiresAt: number;
}

export const SESSION_COOKIE = 'flock_session';
/** idle time after which a session ends. */
export const SESSION_IDLE_MS = 8 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export const newSecret = (): string => randomBytes(32).toString('base64url');

/** Equal secrets, compared in constant time. */
export function sameSecret(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export class SessionStore {
  readonly #sessions = new Map<string, Session>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  /** The live session of a cookie value (its idle time restarts), or undefined. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    const now = this.#clock();
    if (session.expiresAt <= now) {
      this.#sessions.delete(id);
      return undefined;
    }
    session.expiresAt = now + SESSION_IDLE_MS;
    return session;
  }

  /**
   * A new session holding `previous`'s spaces plus `access` (merged with what it held for that space),
   * showing that space. The id and the CSRF token are new at every sign-in (no fixation); the previous
   * session ends.
   */
  signIn(previous: Session | undefined, access: SpaceAccess): Session {
    const spaces = new Map(previous?.spaces ?? []);
    const held = spaces.get(access.spaceId);
    spaces.set(access.spaceId, {
      spaceId: access.spaceId,
      name: access.name,
      managementToken: access.managementToken ?? held?.managementToken,
      accessToken: access.accessToken ?? held?.accessToken,
    });
    if (previous !== undefined) this.#sessions.delete(previous.id);
    return this.#put({ id: newSecret(), csrf: newSecret(), spaces, current: access.spaceId, expiresAt: this.#clock() + SESSION_IDLE_MS });
  }

  /** The session showing another space it holds (same id and CSRF token); undefined when it holds no such space. */
  switchTo(session: Session, spaceId: string): Session | undefined {
    if (!session.spaces.has(spaceId)) return undefined;
    return this.#put({ ...session, current: spaceId });
  }

  end(session: Session): void {
    this.#sessions.delete(session.id);
  }

  #put(session: Session): Session {
    if (!this.#sessions.has(session.id) && this.#sessions.size >= MAX_SESSIONS) {
      // the oldest first (a Map iterates in insertion order)
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
    this.#sessions.set(session.id, session);
    return session;
  }
}
