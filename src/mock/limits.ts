/**
 * Bounds on what one request can make the mock do. It serves demos and
 * benchmarks as well as tests, so a hostile value must not crash it, hang it
 * or make it allocate without bound.
 */

/** Tokens in one reply: the events of a stream this long are about 15 MB. */
export const MAX_REPLY_TOKENS = 100_000;
/** The largest embedding OpenAI makes (text-embedding-3-large). */
export const MAX_DIMENSIONS = 3072;
/** OpenAI's limit on inputs in one embeddings request. */
export const MAX_EMBEDDING_INPUTS = 2048;
/** Numbers in one embeddings reply (about 20 MB of JSON). */
export const MAX_EMBEDDING_VALUES = 1_048_576;
/** OpenAI's limit on `n`. */
export const MAX_CHOICES = 128;
/** Request bodies past this are refused with a 413 while they are still arriving. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
