import type { TotpEnrolment } from './account-service.js';
import { html, type Html } from './page.js';

/** Page fragments shared by the sign-in steps and the account page. */

export function totpEnrolmentForm(action: string, csrf: string, enrolment: TotpEnrolment): Html {
  return html`
<p>Scan this code with an authenticator app (for example Aegis, Google Authenticator or 1Password), then enter the 6-digit code it shows.</p>
<p><img src="${enrolment.qrDataUrl}" width="220" height="220" alt="QR code for your authenticator app"></p>
<p class="hint">Cannot scan? Enter this key in the app: <code id="totp-secret">${enrolment.secret}</code></p>
<form method="post" action="${action}">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="factor" value="${enrolment.factorId}">
<label for="code">Code from the app</label>
<input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" required maxlength="7">
<button type="submit">Turn on</button>
</form>`;
}

export function recoveryCodesList(codes: string[]): Html {
  return html`
<h2>Recovery codes</h2>
<p>Keep these codes somewhere safe. Each one signs you in once if you lose your authenticator. They are shown only now.</p>
<ul class="codes" id="recovery-codes">${codes.map((c) => html`<li><code>${c}</code></li>`)}</ul>`;
}

export function passwordFields(current: boolean): Html {
  return html`
${current ? html`<label for="current-password">Current password</label>
<input id="current-password" name="current_password" type="password" autocomplete="current-password" required maxlength="256">` : ''}
<label for="new-password">New password</label>
<input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="8" maxlength="256" aria-describedby="password-hint">
<p class="hint" id="password-hint">At least 8 characters. Common passwords are refused.</p>
<label for="confirm-password">New password again</label>
<input id="confirm-password" name="confirm_password" type="password" autocomplete="new-password" required minlength="8" maxlength="256">`;
}
