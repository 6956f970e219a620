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
  for (const model of Object.values(config.models)) {
    if (model.strategy !== "cost") continue;
    const unpriced = model.targets.filter((t) => t.cost === undefined).map((t) => `${t.provider}/${t.model}`);
    if (unpriced.length === 0 || unpriced.length === model.targets.length) {
      if (unpriced.length > 0) warnings.push(`models.${model.name} uses strategy cost but none of its targets has a price: add them under pricing: (or targets[].cost), else it orders by weight alone`);
      continue;
    }
    warnings.push(`models.${model.name} uses strategy cost but ${unpriced.join(", ")} ${unpriced.length === 1 ? "has" : "have"} no price (pricing: or targets[].cost), so ${unpriced.length === 1 ? "it goes" : "they go"} last`);
  }
  return warnings;
}
