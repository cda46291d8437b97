// The API client: the access key lives in sessionStorage (this tab only,
// gone when it closes) and goes with every request.

export const KEY = "facet-screen-key";

let onUnauthorized = () => {};

// What to do when the key stops being accepted (the app signs out).
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let data = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("json")) data = await res.json();
  if (res.status === 401 && path !== "/v1/me") {
    onUnauthorized("Your access key is no longer valid. Sign in again.");
    throw new Error("unauthorized");
  }
  return { status: res.status, data };
}
