// The API client: JSON in and out, the bearer token from auth, errors as ApiError with the API's stable code.
import { currentToken, signOut } from "./auth.js";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.code = (body && body.code) || "HTTP_" + status;
    this.details = body && body.details;
  }
}

let base = "";

export function setApiBase(value) {
  base = (value || "").replace(/\/+$/, "");
}

export async function api(method, path, { query, body } = {}) {
  const url = new URL(base + path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  const token = await currentToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { message: text.slice(0, 200) };
  }
  if (response.status === 401) {
    await signOut({ expired: true });
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

export const get = (path, query) => api("GET", path, { query });
export const post = (path, body) => api("POST", path, { body: body ?? {} });
export const patch = (path, body) => api("PATCH", path, { body });

/** A path segment from user input or API data, always encoded. */
export const seg = (value) => encodeURIComponent(String(value));
