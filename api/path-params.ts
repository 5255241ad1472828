/**
 * Path parameters that become LMDB keys (profile identifiers, definition ids and keys), bounded: a
 * longer one can name nothing, and past LMDB's key size it would fail the read (a 500). The bound
 * is checked in the route's schema, so every route answers 400 with the parameter's own code.
 */
import { z } from 'zod';
import { MAX_IDENTIFIER_LENGTH } from '../engine/index.ts';

/** `<type>:<value>`: a type is at most 100 characters, a value at most MAX_IDENTIFIER_LENGTH (what identity resolution keeps). */
export const MAX_PROFILE_IDENTIFIER_LENGTH = 100 + 1 + MAX_IDENTIFIER_LENGTH;
/** Definition and preview ids (`aud_` + 22 characters when Flock makes them) and definition keys (at most 120 characters). */
export const MAX_PATH_ID_LENGTH = 500;

/** A non-empty string of at most `max` characters; a longer one is a custom issue carrying `code` (see app.ts `validationFailed`). */
export function boundedParam(max: number, code: string, what: string) {
  return z
    .string()
    .min(1)
    .refine((value) => value.length <= max, { error: `${what} must be at most ${max} characters`, params: { code } });
}

/** The Profile API's `{identifier}`: `validation_error`'s own case, `identifier_too_long`. */
export const profileIdentifierParam = boundedParam(MAX_PROFILE_IDENTIFIER_LENGTH, 'identifier_too_long', 'an identifier');
