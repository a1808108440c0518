/**
 * The only script Signet's pages run (nonce'd, inline): it reads WebAuthn options from a JSON
 * block, runs the browser ceremony and submits the result through an ordinary form, so the server
 * side stays a form POST with a CSRF token. Buttons carry `data-webauthn="create|get"` and
 * `data-form` (the id of the form whose `response` field receives the JSON).
 */
export const WEBAUTHN_SCRIPT = `
(function () {
  var b64u = {
    toBuf: function (s) { s = s.replace(/-/g, '+').replace(/_/g, '/'); while (s.length % 4) s += '='; var b = atob(s), u = new Uint8Array(b.length); for (var i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u.buffer; },
    fromBuf: function (buf) { var u = new Uint8Array(buf), s = ''; for (var i = 0; i < u.length; i++) s += String.fromCharCode(u[i]); return btoa(s).replace(/\\+/g, '-').replace(/\\//g, '_').replace(/=+$/, ''); }
  };
  function creationOptions(o) {
    var p = Object.assign({}, o, { challenge: b64u.toBuf(o.challenge), user: Object.assign({}, o.user, { id: b64u.toBuf(o.user.id) }) });
    p.excludeCredentials = (o.excludeCredentials || []).map(function (c) { return Object.assign({}, c, { id: b64u.toBuf(c.id) }); });
    return p;
  }
  function requestOptions(o) {
    var p = Object.assign({}, o, { challenge: b64u.toBuf(o.challenge) });
    p.allowCredentials = (o.allowCredentials || []).map(function (c) { return Object.assign({}, c, { id: b64u.toBuf(c.id) }); });
    return p;
  }
  function toJSON(cred) {
    var r = cred.response, out = { id: cred.id, rawId: b64u.fromBuf(cred.rawId), type: cred.type, clientExtensionResults: cred.getClientExtensionResults(), authenticatorAttachment: cred.authenticatorAttachment || undefined, response: { clientDataJSON: b64u.fromBuf(r.clientDataJSON) } };
    if (r.attestationObject) { out.response.attestationObject = b64u.fromBuf(r.attestationObject); out.response.transports = r.getTransports ? r.getTransports() : []; }
    if (r.authenticatorData) { out.response.authenticatorData = b64u.fromBuf(r.authenticatorData); out.response.signature = b64u.fromBuf(r.signature); if (r.userHandle) out.response.userHandle = b64u.fromBuf(r.userHandle); }
    return out;
  }
  document.querySelectorAll('[data-webauthn]').forEach(function (button) {
    button.hidden = false;
    button.addEventListener('click', function () {
      var form = document.getElementById(button.getAttribute('data-form'));
      var status = document.getElementById('webauthn-status');
      var options = JSON.parse(document.getElementById(button.getAttribute('data-options')).textContent);
      var call = button.getAttribute('data-webauthn') === 'create'
        ? navigator.credentials.create({ publicKey: creationOptions(options) })
        : navigator.credentials.get({ publicKey: requestOptions(options) });
      call.then(function (cred) {
        form.elements.response.value = JSON.stringify(toJSON(cred));
        form.submit();
      }).catch(function (e) {
        if (status) status.textContent = 'The passkey request did not complete (' + e.name + '). You can try again.';
      });
    });
  });
  var unsupported = document.getElementById('webauthn-unsupported');
  if (unsupported && !window.PublicKeyCredential) unsupported.hidden = false;
})();
`;
