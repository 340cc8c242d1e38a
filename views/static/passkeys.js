// Passkeys on Ferry's pages (no inline script: the CSP allows only /static). Every form marked
// data-passkey="register" | "sign-in" | "second-factor" is shown where the browser has WebAuthn.
// On submit it asks its data-options URL for the ceremony's options (a POST with the form's CSRF
// token), runs the ceremony, puts the credential as JSON in the form's `response` field and sends
// the form; the server verifies it. A sign-in form marked data-conditional also offers passkeys in
// the identifier field's autofill (conditional mediation), where the browser supports it.
(() => {
  if (!window.PublicKeyCredential || !navigator.credentials) return;

  const toBytes = (base64url) => {
    const base64 = base64url
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(base64url.length / 4) * 4, '=');
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  };
  const toBase64url = (buffer) => {
    let binary = '';
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const descriptors = (list) => (list || []).map((item) => ({ ...item, id: toBytes(item.id) }));

  // PublicKeyCredential.parse*OptionsFromJSON and toJSON are in current browsers; the rest by hand.
  const creationOptions = (json) =>
    PublicKeyCredential.parseCreationOptionsFromJSON
      ? PublicKeyCredential.parseCreationOptionsFromJSON(json)
      : {
          ...json,
          challenge: toBytes(json.challenge),
          user: { ...json.user, id: toBytes(json.user.id) },
          excludeCredentials: descriptors(json.excludeCredentials),
        };
  const requestOptions = (json) =>
    PublicKeyCredential.parseRequestOptionsFromJSON
      ? PublicKeyCredential.parseRequestOptionsFromJSON(json)
      : { ...json, challenge: toBytes(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
  const credentialJson = (credential) => {
    if (typeof credential.toJSON === 'function') return credential.toJSON();
    const { response } = credential;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) },
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      if (response.userHandle) json.response.userHandle = toBase64url(response.userHandle);
    }
    return json;
  };

  const optionsFor = async (form) => {
    const body = new URLSearchParams({ csrf: form.elements.csrf.value });
    const answer = await fetch(form.dataset.options, { method: 'POST', body, credentials: 'same-origin' });
    if (!answer.ok) throw new Error('options');
    return answer.json();
  };

  const showError = (form, message) => {
    const box = form.querySelector('[data-passkey-error]');
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  };

  const send = (form, credential) => {
    form.elements.response.value = JSON.stringify(credentialJson(credential));
    form.submit();
  };

  /** The autofill's pending request, aborted when the person presses the button instead. */
  let conditional;

  const ceremony = async (form) => {
    const kind = form.dataset.passkey;
    const json = await optionsFor(form);
    if (kind === 'register') return navigator.credentials.create({ publicKey: creationOptions(json) });
    return navigator.credentials.get({ publicKey: requestOptions(json) });
  };

  for (const form of document.querySelectorAll('form[data-passkey]')) {
    form.hidden = false;
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showError(form, '');
      conditional?.abort();
      try {
        const credential = await ceremony(form);
        if (credential) send(form, credential);
      } catch (error) {
        const cancelled = error && (error.name === 'NotAllowedError' || error.name === 'AbortError');
        showError(
          form,
          cancelled
            ? 'The passkey request was cancelled or timed out. Try again.'
            : error && error.name === 'InvalidStateError'
              ? 'This passkey is registered already.'
              : 'Passkeys could not be used just now. Reload the page and try again.',
        );
      }
    });
  }

  const autofill = document.querySelector('form[data-passkey="sign-in"][data-conditional]');
  if (autofill && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then(async (available) => {
      if (!available) return;
      conditional = new AbortController();
      try {
        const json = await optionsFor(autofill);
        const credential = await navigator.credentials.get({ publicKey: requestOptions(json), mediation: 'conditional', signal: conditional.signal });
        if (credential) send(autofill, credential);
      } catch {
        // Aborted for the button, or nothing chosen: the password form and the button stay.
      }
    });
  }
})();
