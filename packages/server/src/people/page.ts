import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { html, Html } from './html.js';

export { html, Html, escapeHtml, jsonData } from './html.js';
export { csrfToken, csrfValid } from './csrf.js';

/**
 * The one layout for every browser page Signet renders (sign-in, account, consent, errors).
 *
 * Headers on every page:
 * - CSP: nothing loads but this page's own nonce'd style and scripts (`default-src 'none'`), images
 *   only from data: URLs (the TOTP QR code), fetches only to this origin (WebAuthn ceremonies),
 *   `base-uri 'none'`, `frame-ancestors 'none'` (clickjacking, RFC 9700 §4.16) — and X-Frame-Options
 *   DENY for browsers that predate CSP level 2.
 * - `form-action`: 'self' unless the page's forms may end in a redirect to a client (sign-in,
 *   consent): browsers apply form-action to the redirects that follow a form submission.
 * - no caching, no referrer (URLs may carry authorization request parameters).
 */
export interface PageOptions {
  title: string;
  body: Html;
  status?: number;
  /** Script bodies, each run with this page's nonce (only WebAuthn ceremonies need any). */
  scripts?: string[];
  /** False on pages whose forms lead to a client's redirect URI; default true. */
  restrictFormAction?: boolean;
  /** The one URL this page's forms post to, elsewhere than Signet (a client's redirect URI: form_post). */
  formAction?: string;
  /** Extra `<head>` content (built with `html`). */
  head?: Html;
}

const STYLE = `
:root{color-scheme:light dark;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
body{margin:0;display:flex;justify-content:center;padding:2rem 1rem}
main{width:100%;max-width:30rem}
h1{font-size:1.5rem;margin:0 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password],input[type=email]{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem;border:1px solid #888;border-radius:.25rem}
input:focus,button:focus,a:focus{outline:3px solid #2563eb;outline-offset:2px}
button{margin-top:1rem;padding:.5rem 1rem;font-size:1rem;border-radius:.25rem;border:1px solid #1d4ed8;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:transparent;color:inherit;border-color:#888}
.error{border-left:4px solid #b91c1c;padding:.5rem .75rem;background:rgba(185,28,28,.08)}
.notice{border-left:4px solid #15803d;padding:.5rem .75rem;background:rgba(21,128,61,.08)}
.hint{font-size:.9rem;opacity:.8}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem .25rem 0;vertical-align:top}
code,.codes{font-family:ui-monospace,monospace}
form.inline{display:inline}
`;

/** A CSP source for a form target: its origin (CSP sources cannot hold a query), or its scheme for a private-use one. */
function formActionSource(url: string): string {
  const target = new URL(url);
  return target.protocol === 'https:' || target.protocol === 'http:' ? target.origin : target.protocol;
}

function contentSecurityPolicy(nonce: string, restrictFormAction: boolean, formAction?: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "img-src data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    ...(formAction !== undefined ? [`form-action ${formActionSource(formAction)}`] : restrictFormAction ? ["form-action 'self'"] : []),
  ].join('; ');
}

/** Sends a complete HTML page with the security headers above. */
export function sendPage(reply: FastifyReply, options: PageOptions): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  const scripts = (options.scripts ?? []).map((s) => new Html(`<script nonce="${nonce}">${s.replace(/<\/script/gi, '<\\/script')}</script>`));
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${options.title} · Signet</title>
<style nonce="${nonce}">${new Html(STYLE)}</style>
${options.head}
</head>
<body>
<main>
<h1>${options.title}</h1>
${options.body}
</main>
${scripts}
</body>
</html>`;
  return reply
    .status(options.status ?? 200)
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy(nonce, options.restrictFormAction ?? true, options.formAction))
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .header('cross-origin-opener-policy', 'same-origin')
    .send(page.value);
}

/** The HTML error page: a title and a plain message, never a stack trace or internal detail. */
export function sendErrorPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  return sendPage(reply, { status, title, body: html`<p class="error" role="alert">${message}</p>` });
}

/** A message box for form errors, announced to screen readers. */
export function errorBox(message: string | undefined): Html {
  return message ? html`<p class="error" role="alert" id="form-error">${message}</p>` : html``;
}
