/**
 * Azure OpenAI's URLs, mapped onto the mock's OpenAI routes: the bodies,
 * answers and streams are OpenAI's, only the paths and the key header
 * differ. Dated API: `/openai/deployments/{deployment}/chat/completions?api-version=…`
 * (the deployment stands in for the model); v1 API: `/openai/v1/…`.
 */

export interface AzureRoute {
  /** The OpenAI route it stands for, e.g. "POST /v1/chat/completions". */
  route: string;
  /** The deployment named in the path (dated API). */
  deployment?: string;
  /** Set when a dated path has no api-version: Azure refuses it. */
  missingVersion?: boolean;
}

const DEPLOYMENT = /^\/openai\/deployments\/([^/]+)(\/chat\/completions|\/completions|\/embeddings)$/;

/** The OpenAI route an Azure path stands for, or undefined for any other path. */
export function azureRoute(method: string, path: string, query: string): AzureRoute | undefined {
  const versioned = new URLSearchParams(query).has("api-version");
  if (path.startsWith("/openai/v1/")) return { route: `${method} ${path.slice("/openai".length)}` };
  if (path === "/openai/models") return { route: `${method} /v1/models`, missingVersion: !versioned };
  const m = DEPLOYMENT.exec(path);
  if (m === null) return undefined;
  let deployment: string;
  try {
    deployment = decodeURIComponent(m[1]);
  } catch {
    return undefined;
  }
  return { route: `${method} /v1${m[2]}`, deployment, missingVersion: !versioned };
}
