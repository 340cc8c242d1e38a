// The console works without this file; it only makes two things nicer.

// Show only the chosen connection form's fields (URI or programmatic).
for (const fieldset of document.querySelectorAll('[data-connection-form]')) {
  const radios = fieldset.querySelectorAll('input[name="form"]');
  const update = () => {
    const chosen = fieldset.querySelector('input[name="form"]:checked');
    for (const part of fieldset.querySelectorAll('[data-form-part]')) part.hidden = chosen !== null && part.dataset.formPart !== chosen.value;
  };
  for (const radio of radios) radio.addEventListener('change', update);
  update();
}

// Ask before destructive forms are sent.
for (const form of document.querySelectorAll('form[data-confirm]')) {
  form.addEventListener('submit', (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// After a Test, bring the result into view and announce it.
const result = document.getElementById('test-result');
if (result) {
  result.setAttribute('tabindex', '-1');
  result.focus();
}
