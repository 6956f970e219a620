#!/usr/bin/env -S node --max-semi-space-size=8
// The flag caps V8's young generation (see src/cli/node-flags.ts).
// Switchyard runs its TypeScript sources directly, which needs Node 24's type stripping.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  process.stderr.write(`switchyard needs Node 24 or newer (this is ${process.version}); run it through npm scripts or npx, which use the project's pinned Node.\n`);
  process.exit(1);
}
await import("../src/cli/main.ts");
