import { resolveConfig } from "../config/load.ts";
import type { GatewayConfig } from "../config/types.ts";
import { clientFor, type Gateway } from "./client.ts";
import { Engine, type EngineOptions } from "./gateway.ts";

function isNormalised(config: unknown): config is GatewayConfig {
  const c = config as Partial<GatewayConfig> | null;
  return typeof c?.source === "string" && typeof c.server?.maxBody === "number";
}

/**
 * Creates an in-process gateway. `config` is either what loadConfig returns or
 * a plain object in the YAML file's shape (snake_case, durations as strings),
 * which is validated the same way the file is.
 *
 * @example
 * const gw = await createGateway({ providers: { demo: { type: "demo" } }, models: { chat: { targets: ["demo/demo-1"] } } });
 * const res = await gw.chat.completions.create({ model: "chat", messages: [{ role: "user", content: "hi" }] });
 */
export async function createGateway(config: unknown, options: EngineOptions & { env?: Record<string, string | undefined> } = {}): Promise<Gateway> {
  const resolved = isNormalised(config) ? config : resolveConfig(config, { env: options.env ?? process.env, source: "createGateway" });
  return clientFor(new Engine(resolved, options));
}
