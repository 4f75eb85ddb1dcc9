// Progressive enhancement only: pages work without it.
// A slider question arrives as an empty number field (no default answer). Here it becomes
// a slider that stays unanswered (no thumb, nothing sent) until it is moved or tapped.
document.querySelectorAll('input[data-slider]').forEach(function (field) {
  var range = document.createElement('input');
  var out = document.createElement('output');
  var hint = document.getElementById('hint-' + field.name);
  var answered = field.value !== '';
  range.type = 'range';
  range.min = field.min;
  range.max = field.max;
  range.step = field.step;
  ['aria-labelledby', 'aria-describedby', 'aria-invalid'].forEach(function (name) {
    if (field.hasAttribute(name)) range.setAttribute(name, field.getAttribute(name));
  });
  range.value = answered ? field.value : (Number(field.min) + Number(field.max)) / 2;
  range.id = field.id;
  field.id = field.id + '-value';
  out.setAttribute('for', range.id);
  out.value = answered ? field.value : '–';
  if (!answered) range.classList.add('untouched');
  if (hint && field.dataset.slider) hint.textContent = field.dataset.slider;
  function take() {
    field.value = range.value;
    out.value = range.value;
    range.classList.remove('untouched');
  }
  range.addEventListener('input', take);
  range.addEventListener('click', take);
  field.type = 'hidden';
  field.removeAttribute('aria-labelledby');
  field.parentNode.insertBefore(range, field);
  field.parentNode.insertBefore(out, field);
});
// Leave this page: replace it in the history, so Back does not return to it.
document.querySelectorAll('a[data-exit]').forEach(function (a) {
  a.addEventListener('click', function (e) { e.preventDefault(); location.replace(a.href); });
});
// Answers given but not sent yet: when the page is hidden (phone locked, tab closed, another
// app opened) the form goes to /p/draft, and the server keeps its valid answers as the page's
// draft, shown again on return. Without scripts, a post that fails validation keeps them.
document.querySelectorAll('form.page-form[method=post]').forEach(function (form) {
  if (!navigator.sendBeacon || !form.querySelector('.q')) return;
  var changed = false;
  form.addEventListener('change', function () { changed = true; });
  form.addEventListener('input', function () { changed = true; });
  form.addEventListener('submit', function () { changed = false; });
  // "Leave this page" keeps nothing: the phone may be about to change hands.
  document.querySelectorAll('a[data-exit]').forEach(function (a) {
    a.addEventListener('click', function () { changed = false; });
  });
  function keep() {
    if (changed) changed = !navigator.sendBeacon(form.action + '/draft', new FormData(form));
  }
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'hidden') keep();
  });
  addEventListener('pagehide', keep);
});
