/**
 * The dashboard's page, script and style: plain files beside this module
 * (public/), read once when the server is built and served from memory.
 * Nothing is fetched from anywhere else: the policy below lets the page load
 * only its own script and style and talk only to its own origin.
 */
import { readFileSync } from "node:fs";

export interface Asset {
  body: Buffer;
  headers: Record<string, string | number>;
}

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

function asset(name: string, contentType: string): Asset {
  const body = readFileSync(new URL(`./public/${name}`, import.meta.url));
  return {
    body,
    headers: {
      "content-type": contentType,
      "content-length": body.length,
      // Revalidated on every load, so a new version of the gateway never runs with an old script.
      "cache-control": "no-cache",
      "content-security-policy": CONTENT_SECURITY_POLICY,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    },
  };
}

export interface Assets {
  page: Asset;
  script: Asset;
  style: Asset;
}

let loaded: Assets | undefined;

/** Read on the first call (when the first server is built), then shared by every server of the process. */
export function loadAssets(): Assets {
  loaded ??= {
    page: asset("index.html", "text/html; charset=utf-8"),
    script: asset("app.js", "text/javascript; charset=utf-8"),
    style: asset("app.css", "text/css; charset=utf-8"),
  };
  return loaded;
}
