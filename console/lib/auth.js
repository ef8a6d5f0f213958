// Sign-in. On AWS: the Cognito hosted UI, authorization code + PKCE (S256); the ID token is kept in
// sessionStorage (this tab only), the refresh token in memory only; tokens are refreshed a minute before
// they expire; sign-out revokes the refresh token and ends the hosted UI session. Locally: a dev sign-in
// that asks the local stack (GET /_local/token, LOCAL ONLY) for a dev token for a chosen user and groups.

const SESSION = "console.session";
const PENDING = "console.pkce";
const SKEW_SECONDS = 60;

let config = { auth: "local" };
let refreshToken = null; // memory only: never written to storage
let refreshing = null;

export function configureAuth(value) {
  config = value;
}

export const STAFF_GROUPS = ["reviewer", "support", "ops", "analyst"];

function b64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(bytes = 32) {
  return b64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The claims of a JWT, for display only: the API verifies the token, the console never trusts it. */
export function claimsOf(token) {
  const payload = token.split(".")[1] || "";
  const padded = payload.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(payload.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

function groupsOf(claims) {
  const raw = claims["cognito:groups"] || [];
  return Array.isArray(raw) ? raw : String(raw).split(",").filter(Boolean);
}

function store(idToken) {
  const claims = claimsOf(idToken);
  const session = { idToken, exp: claims.exp, user: claims.sub, email: claims.email, groups: groupsOf(claims) };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

export function session() {
  try {
    const value = JSON.parse(sessionStorage.getItem(SESSION) || "null");
    return value && value.idToken ? value : null;
  } catch {
    return null;
  }
}

const now = () => Math.floor(Date.now() / 1000);

/** A valid ID token (refreshed if it is about to expire), or null when the user must sign in again. */
export async function currentToken() {
  const current = session();
  if (current && current.exp - SKEW_SECONDS > now()) return current.idToken;
  if (config.auth === "cognito" && refreshToken) {
    refreshing = refreshing || refresh().finally(() => (refreshing = null));
    return refreshing;
  }
  return null;
}

// --- local dev sign-in (LOCAL ONLY) ----------------------------------------------------------
export async function devSignIn(user, groups) {
  const url = new URL("/_local/token", window.location.origin);
  url.searchParams.set("user", user);
  url.searchParams.set("groups", groups.join(","));
  const response = await fetch(url, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message || "dev sign-in refused");
  return store(body.id_token);
}

// --- Cognito hosted UI ---------------------------------------------------------------------------
async function tokenRequest(fields) {
  const response = await fetch(`${config.cognito.domain}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ client_id: config.cognito.clientId, ...fields }),
    credentials: "omit",
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error_description || body.error || "token request refused");
  return body;
}

async function refresh() {
  try {
    const tokens = await tokenRequest({ grant_type: "refresh_token", refresh_token: refreshToken });
    scheduleRefresh(store(tokens.id_token));
    return tokens.id_token;
  } catch {
    refreshToken = null;
    sessionStorage.removeItem(SESSION);
    return null;
  }
}

let timer = null;
function scheduleRefresh(current) {
  clearTimeout(timer);
  if (!refreshToken) return;
  const delay = Math.max(5, current.exp - SKEW_SECONDS - now()) * 1000;
  timer = setTimeout(() => currentToken(), delay);
}

export async function startHostedSignIn() {
  const verifier = randomString(48);
  const state = randomString(16);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const url = new URL(`${config.cognito.domain}/oauth2/authorize`);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.cognito.clientId,
    redirect_uri: config.cognito.redirectUri,
    scope: config.cognito.scopes || "openid email profile",
    state,
    code_challenge: b64url(digest),
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/** Back from the hosted UI with ?code=&state=: exchange the code (once), clean the address bar. */
export async function completeHostedSignIn() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("code");
  if (!code) return null;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  window.history.replaceState(null, "", config.cognito.redirectUri);
  if (!pending || pending.state !== params.get("state")) throw new Error("sign-in state mismatch; sign in again");
  const tokens = await tokenRequest({
    grant_type: "authorization_code",
    code,
    redirect_uri: config.cognito.redirectUri,
    code_verifier: pending.verifier,
  });
  refreshToken = tokens.refresh_token || null;
  const current = store(tokens.id_token);
  scheduleRefresh(current);
  return current;
}

export async function signOut({ expired = false } = {}) {
  sessionStorage.removeItem(SESSION);
  clearTimeout(timer);
  if (config.auth !== "cognito") {
    if (!expired) window.location.hash = "#/signin";
    return;
  }
  if (refreshToken) {
    const token = refreshToken;
    refreshToken = null;
    await fetch(`${config.cognito.domain}/oauth2/revoke`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token, client_id: config.cognito.clientId }),
      credentials: "omit",
    }).catch(() => undefined);
  }
  const url = new URL(`${config.cognito.domain}/logout`);
  url.search = new URLSearchParams({ client_id: config.cognito.clientId, logout_uri: config.cognito.logoutUri }).toString();
  window.location.assign(url.toString());
}
