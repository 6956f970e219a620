/**
 * Checks that span sections: targets naming providers, fallbacks naming
 * models, and fallback cycles.
 *
 * They read the interpolated but unvalidated value, tolerating anything
 * malformed (the schema reports that), so a single run can list a typo'd key
 * and a dangling provider reference together.
 */

import { didYouMean, problemAt } from "./problems.ts";
import type { PathSegment } from "./problems.ts";

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function keysOf(v: unknown): string[] {
  return isRecord(v) ? Object.keys(v) : [];
}

function checkProviderNames(names: string[]): string[] {
  const problems: string[] = [];
  for (const name of names) {
    // Requests may address a provider as "provider/model", so a slash would be ambiguous.
    if (name === "" || name.includes("/")) {
      problems.push(problemAt(["providers", name], 'provider names must be non-empty and contain no "/"'));
    }
  }
  return problems;
}

/** The provider a target entry names, and where to point if it's wrong. */
function targetProvider(target: unknown, path: PathSegment[]): { name: string; path: PathSegment[] } | undefined {
  if (typeof target === "string") {
    const slash = target.indexOf("/");
    return slash > 0 ? { name: target.slice(0, slash), path } : undefined;
  }
  if (isRecord(target) && typeof target.provider === "string" && target.provider !== "") {
    return { name: target.provider, path: [...path, "provider"] };
  }
  return undefined;
}

function checkTargets(models: Record<string, unknown>, providers: string[]): string[] {
  const problems: string[] = [];
  const known = new Set(providers);
  for (const [name, model] of Object.entries(models)) {
    if (!isRecord(model) || !Array.isArray(model.targets)) continue;
    model.targets.forEach((target, index) => {
      const ref = targetProvider(target, ["models", name, "targets", index]);
      if (ref === undefined || known.has(ref.name)) return;
      const hint = providers.length === 0 ? " (no providers are configured)" : didYouMean(ref.name, providers);
      problems.push(problemAt(ref.path, `unknown provider ${JSON.stringify(ref.name)}${hint}`));
    });
  }
  return problems;
}

/** Checks each fallback entry and returns the usable edges for cycle detection. */
function checkFallbacks(models: Record<string, unknown>, problems: string[]): Map<string, { to: string; index: number }[]> {
  const names = Object.keys(models);
  const known = new Set(names);
  const edges = new Map<string, { to: string; index: number }[]>();
  for (const [name, model] of Object.entries(models)) {
    const out: { to: string; index: number }[] = [];
    edges.set(name, out);
    if (!isRecord(model) || !Array.isArray(model.fallbacks)) continue;
    const seen = new Set<string>();
    model.fallbacks.forEach((fallback, index) => {
      if (typeof fallback !== "string" || fallback === "") return;
      const path = ["models", name, "fallbacks", index];
      if (fallback === name) problems.push(problemAt(path, "a model can't fall back to itself"));
      else if (!known.has(fallback)) problems.push(problemAt(path, `unknown model ${JSON.stringify(fallback)}${didYouMean(fallback, names)}`));
      else if (seen.has(fallback)) problems.push(problemAt(path, `${JSON.stringify(fallback)} is listed twice`));
      else out.push({ to: fallback, index });
      seen.add(fallback);
    });
  }
  return edges;
}

/** Reports each cycle once, at the fallback entry that closes it. */
function checkCycles(edges: Map<string, { to: string; index: number }[]>): string[] {
  const problems: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    stack.push(name);
    for (const { to, index } of edges.get(name) ?? []) {
      const start = stack.indexOf(to);
      if (start >= 0) {
        const cycle = [...stack.slice(start), to].join(" → ");
        problems.push(problemAt(["models", name, "fallbacks", index], `fallback cycle: ${cycle}`));
      } else if (!done.has(to)) {
        visit(to);
      }
    }
    stack.pop();
    done.add(name);
  };
  for (const name of edges.keys()) if (!done.has(name)) visit(name);
  return problems;
}

export function checkReferences(raw: unknown): string[] {
  if (!isRecord(raw)) return [];
  const providers = keysOf(raw.providers);
  const problems = checkProviderNames(providers);
  const models = isRecord(raw.models) ? raw.models : {};
  problems.push(...checkTargets(models, providers));
  const edges = checkFallbacks(models, problems);
  problems.push(...checkCycles(edges));
  return problems;
}
