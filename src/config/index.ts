export type * from "./types.ts";
export type { Env } from "./interpolate.ts";
export type { Defaults, EnvProvider } from "./defaults.ts";
export type { LoadOptions, ResolveOptions } from "./load.ts";
export { configFromEnv, DEFAULTS, DEMO_BASE_URL, ENV_PROVIDERS } from "./defaults.ts";
export { parseDuration, parseSize } from "./duration.ts";
export { CONFIG_FILE_NAMES, ConfigError, loadConfig, resolveConfig } from "./load.ts";
export { LOG_LEVELS, PROVIDER_TYPES } from "./schema.ts";
