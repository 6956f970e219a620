/**
 * Configs that are valid but almost certainly not what their author meant.
 * `serve` logs these at start and `check` prints them; neither refuses to run.
 */

import type { GatewayConfig } from "./types.ts";

export function configWarnings(config: GatewayConfig): string[] {
  const warnings: string[] = [];
  if (Object.keys(config.providers).length === 0) {
    warnings.push(
      `no providers are configured (${config.source}), so every request will fail: ` +
        "add a providers: section naming an upstream, and a models: section routing to it (see switchyard.example.yaml)",
    );
  }
  return warnings;
}
