/** The Segment tracking API's stated limits (spec §9.4, §6), shared by validation and the HTTP layer. */

/** bytes of JSON in one call. */
export const MAX_EVENT_BYTES = 32 * 1024;
/** bytes of one request body, before and after decompression. */
export const MAX_REQUEST_BYTES = 500 * 1024;
/** items kept from one batch; the rest are rejected with `batch_too_large`. */
export const MAX_BATCH_EVENTS = 2_500;
/** `messageId` must be shorter than 100 characters. */
export const MAX_MESSAGE_ID_LENGTH = 99;
export const MAX_GROUP_ID_LENGTH = 500;
/** `userId`, `anonymousId` and every other identifier: longer values identify nobody (engine/identity). */
export const MAX_IDENTIFIER_LENGTH = 500;
/** Segment rejects an identify with 300 traits or more. */
export const MAX_TRAITS = 299;
export const MAX_PROPERTIES = 300;
/**
 * Nesting depth of a request body (the batch envelope counts as two levels). Real calls nest about
 * five deep; a few thousand levels would overflow the stack of every recursive encoder downstream.
 */
export const MAX_JSON_DEPTH = 64;
