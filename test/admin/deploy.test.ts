import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.ts";
import { exposureProblem } from "../../src/server/auth.ts";

const root = new URL("../../", import.meta.url);

test("the container's config is valid, listens on 0.0.0.0 and requires gateway keys", async () => {
  const env = { SWITCHYARD_API_KEY: "gateway-key-0123456789", SWITCHYARD_ADMIN_KEY: "admin-key-0123456789", OPENAI_API_KEY: "sk-test" };
  const config = await loadConfig({ path: "deploy/switchyard.yaml", cwd: root.pathname, env });
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server.port, 4000);
  assert.equal(config.server.auth.keys.length, 1);
  assert.equal(exposureProblem(config.server.host, config.server.auth), undefined);
  // Without keys the same file is refused rather than served open.
  await assert.rejects(loadConfig({ path: "deploy/switchyard.yaml", cwd: root.pathname, env: { OPENAI_API_KEY: "sk-test" } }));
});

test("the Dockerfile's runtime stage holds what the start command needs", async () => {
  const dockerfile = await readFile(new URL("Dockerfile", root), "utf8");
  const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8")) as { scripts: Record<string, string> };
  const runtime = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
  assert.match(runtime, /^\nFROM node:24-slim\n/);
  for (const path of ["node_modules", "package.json", "src", "bin"]) assert.match(runtime, new RegExp(`COPY .*${path}`), `${path} is copied`);
  assert.match(runtime, /^USER node$/m, "runs as a non-root user");
  assert.match(runtime, /^HEALTHCHECK [^\n]*\\\n[^\n]*\/health/m);
  assert.match(runtime, /^EXPOSE 4000$/m);
  // The image starts what `npm start` starts, with Node as PID 1.
  const start = pkg.scripts.start.replace(/^node /, "").split(" ");
  assert.match(runtime, new RegExp(`CMD \\["node", ${start.map((s) => `"${s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}"`).join(", ")}\\]`));
  assert.match(dockerfile, /npm ci --omit=dev/);
});

test("the sources import only runtime dependencies, which is all `npm ci --omit=dev` installs in the image", async () => {
  const { readdir } = await import("node:fs/promises");
  const pkg = JSON.parse(await readFile(new URL("package.json", root), "utf8")) as { dependencies: Record<string, string> };
  const files = (await readdir(new URL("src/", root), { recursive: true })).filter((f) => f.endsWith(".ts"));
  const imported = new Set<string>();
  for (const f of files) {
    const text = await readFile(new URL(`src/${f}`, root), "utf8");
    for (const m of text.matchAll(/^(?:import|export)\s[^;]*?from\s+"([^".][^"]*)"|import\("([^".][^"]*)"\)/gm)) {
      const spec = m[1] ?? m[2];
      if (spec.startsWith("node:")) continue;
      imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  assert.ok(imported.size > 0);
  for (const name of imported) assert.ok(name in pkg.dependencies, `${name} is imported by src/ but is not a runtime dependency`);
});
