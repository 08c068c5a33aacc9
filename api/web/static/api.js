// HTTP: JSON requests to /api/v1 with the session cookie, one error type, uploads with progress.

export class ApiError extends Error {
  constructor(status, code, message, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const listeners = new Set();
/** Called with the ApiError whenever the server says the session is gone (401). */
export function onUnauthorized(fn) {
  listeners.add(fn);
}

async function errorOf(response) {
  let code = `http_${response.status}`;
  let message = response.statusText || "The request failed.";
  let details = {};
  try {
    const body = await response.json();
    if (body && body.error) ({ code = code, message = message, details = {} } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, code, message, details);
}

/** `method` `path` with an optional JSON body; resolves to the parsed JSON (null for 204). */
export async function request(method, path, body, { quiet401 = false } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, "network", "The server cannot be reached. Check your connection.");
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (response.status === 401 && !quiet401) for (const fn of listeners) fn(error);
    throw error;
  }
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path, opts) => request("GET", path, undefined, opts);
export const post = (path, body, opts) => request("POST", path, body ?? {}, opts);
export const patch = (path, body) => request("PATCH", path, body);
export const put = (path, body) => request("PUT", path, body ?? {});
export const del = (path) => request("DELETE", path);

/** Query string from an object, skipping null/undefined. */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) for (const item of v) search.append(k, String(item));
    else if (v !== null && v !== undefined && v !== "") search.set(k, String(v));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Upload one file to /api/v1/files; `onProgress(fraction)` follows the upload.
 * Returns `{promise, abort}`; the promise resolves to the stored file's metadata.
 */
export function upload(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", "/api/v1/files");
    xhr.responseType = "json";
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.response);
      else {
        const err = (xhr.response && xhr.response.error) || {};
        reject(new ApiError(xhr.status, err.code || `http_${xhr.status}`, err.message || "The upload failed."));
      }
    });
    xhr.addEventListener("error", () => reject(new ApiError(0, "network", "The upload failed: no connection.")));
    xhr.addEventListener("abort", () => reject(new ApiError(0, "aborted", "The upload was cancelled.")));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}
