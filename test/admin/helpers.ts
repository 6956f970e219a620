import type { FakeClock } from "../helpers/fake-clock.ts";

export const ADMIN_KEY = "admin-key-for-tests-0123456789";

/** An admin API call with the admin key. */
export async function admin(url: string, method: string, path: string, key = ADMIN_KEY) {
  const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
  const text = await res.text();
  return { status: res.status, text, body: JSON.parse(text) as Record<string, any> };
}

/** Moves a mock upstream's fake clock, one timer at a time, until `until` settles. */
export async function pump<T>(clock: FakeClock, until: Promise<T>): Promise<T> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await Promise.race([clock.waitForTimer(() => true), until]);
    clock.advance(1000);
  }
  return until;
}

export function streamRequest(url: string, model: string) {
  return fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
}
