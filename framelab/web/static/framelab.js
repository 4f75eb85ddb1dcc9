// Progressive enhancement only: show a slider's value while it moves. Pages work without it.
document.querySelectorAll('input[type=range]').forEach(function (r) {
  var out = document.querySelector('output[for="' + r.id + '"]');
  if (out) r.addEventListener('input', function () { out.value = r.value; });
});
// Leave this page: replace it in the history, so Back does not return to it.
document.querySelectorAll('a[data-exit]').forEach(function (a) {
  a.addEventListener('click', function (e) { e.preventDefault(); location.replace(a.href); });
});
