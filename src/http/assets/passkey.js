// Passkey forms: asks the browser for a new credential or an assertion with the options the page carries
// (data-options), puts the browser's answer in the form's hidden `credential` field as JSON, and submits it.
// Served as a file under CSP script-src 'self': no inline handlers, no eval, no modules, no build step.
(() => {
  const toB64url = (buffer) => {
    const bytes = new Uint8Array(buffer);
    let text = '';
    for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const fromB64url = (value) => {
    const b64 = value.replace(/-/g, '+').replace(/_/g, '/');
    const text = atob(b64 + '==='.slice((b64.length + 3) % 4));
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes.buffer;
  };
  const withIds = (list) => (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));

  // The JSON options to what the browser takes: its own parser where it has one, by hand otherwise.
  const creationOptions = (json) => {
    if (!json.extensions || json.extensions.credProps === undefined)
      json.extensions = Object.assign({}, json.extensions, { credProps: true });
    if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function')
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  };
  const requestOptions = (json) => {
    if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function')
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  };

  // The credential as RegistrationResponseJSON / AuthenticationResponseJSON (what the server verifies).
  // A password manager's stand-in credential may inherit a native toJSON that throws, or answer junk: then by hand.
  const serialize = (credential) => {
    try {
      const json = typeof credential.toJSON === 'function' ? credential.toJSON() : null;
      if (typeof json?.response?.clientDataJSON === 'string') return json;
    } catch (_) {}
    const r = credential.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response,
      clientExtensionResults:
        typeof credential.getClientExtensionResults === 'function'
          ? credential.getClientExtensionResults()
          : {},
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  };

  const start = async (form, button) => {
    const status = form.querySelector('[data-passkey-status]');
    const say = (message) => {
      if (!status) return;
      status.textContent = message;
      status.hidden = false;
    };
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say('This browser cannot use passkeys.');
      return;
    }
    const register = form.getAttribute('data-passkey') === 'register';
    button.disabled = true;
    try {
      const json = JSON.parse(form.getAttribute('data-options') || '');
      const credential = register
        ? await navigator.credentials.create({ publicKey: creationOptions(json) })
        : await navigator.credentials.get({ publicKey: requestOptions(json) });
      if (!credential) throw new Error('no credential');
      form.querySelector('input[name="credential"]').value = JSON.stringify(serialize(credential));
      say('Checking…');
      form.submit();
    } catch (err) {
      // NotAllowedError is what browsers say for a cancel and for a timeout alike.
      if (err && err.name === 'NotAllowedError') say('Cancelled — try again.');
      // On create, InvalidStateError means the authenticator holds one of excludeCredentials.
      else if (register && err && err.name === 'InvalidStateError') say('This key is already registered.');
      else say('The passkey did not work. Try again.');
      button.disabled = false;
    }
  };

  const init = () => {
    for (const el of document.querySelectorAll('[data-passkey-needs-js]')) el.hidden = false;
    for (const el of document.querySelectorAll('[data-passkey-no-js]')) el.hidden = true;
    for (const form of document.querySelectorAll('form[data-passkey]')) {
      const button = form.querySelector('[data-passkey-start]');
      if (button) button.addEventListener('click', () => start(form, button));
    }
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
