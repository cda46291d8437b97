// The API client: the access key lives in sessionStorage (this tab only,
// gone when it closes) and goes with every request. When the service
// cannot be reached, the answer is `{ status: 0, unreachable: true }`: the
// views say so and offer a retry, and keep what was typed.

export const KEY = "facet-screen-key";

let onUnauthorized = () => {};

// Each page opened (a route, the sign-in form) gets a new number. An answer
// that arrives after the user has opened another page is dropped: the view
// that asked never hears back, so a slow answer never draws its page over
// the one the user went to.
let opened = 0;
export function pageOpened() {
  opened += 1;
}
const left = () => new Promise(() => {});

// What to do when the key stops being accepted (the app signs out, and
// says so).
export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(method, path, body, extraHeaders = {}) {
  const headers = { ...extraHeaders };
  const key = sessionStorage.getItem(KEY);
  if (key) headers["Authorization"] = "Bearer " + key;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const asked = opened;
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    return asked === opened ? { status: 0, data: null, unreachable: true } : left();
  }
  let data = null;
  const type = res.headers.get("content-type") || "";
  if (type.includes("json")) {
    try { data = await res.json(); } catch { return asked === opened ? { status: 0, data: null, unreachable: true } : left(); }
  }
  if (asked !== opened) return left();
  if (res.status === 401 && path !== "/v1/me") {
    onUnauthorized();
    // The view that asked is gone: it never hears back.
    return left();
  }
  // The screening's version, for If-Match when it is changed.
  return { status: res.status, data, etag: res.headers.get("etag") };
}

export const UNREACHABLE = "The service cannot be reached. Check the network connection, then try again. Nothing typed on this page is lost.";
