// Progressive live preview for the frame editor: the page works without this file
// (the "Preview" button renders the same preview on the server).
(function () {
  var form = document.getElementById('frame-form');
  if (!form || !window.fetch || !window.FormData) return;
  var url = form.getAttribute('data-check-url');
  var timer = null;

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function show(data) {
    var warnings = document.getElementById('preview-warnings');
    clear(warnings);
    if (data.warnings.length) {
      var box = document.createElement('div');
      box.className = 'alert alert-warning confound-warning';
      var list = document.createElement('ul');
      data.warnings.forEach(function (text) {
        var li = document.createElement('li');
        li.textContent = text;
        list.appendChild(li);
      });
      box.appendChild(list);
      warnings.appendChild(box);
    } else {
      var ok = document.createElement('p');
      ok.className = 'ok';
      ok.textContent = 'Length and readability are in line with the other messages.';
      warnings.appendChild(ok);
    }
    var rows = document.getElementById('preview-metrics');
    clear(rows);
    data.metrics.forEach(function (m) {
      var tr = document.createElement('tr');
      var th = document.createElement('th');
      th.scope = 'row';
      th.textContent = m.language;
      tr.appendChild(th);
      [m.words, m.reading_time, m.readability + ' (' + m.readability_label + ')'].forEach(function (v) {
        var td = document.createElement('td');
        td.textContent = v;
        tr.appendChild(td);
      });
      rows.appendChild(tr);
    });
    // The HTML comes from the server's sanitizer (markdown-it + nh3), the same as participants get.
    Object.keys(data.html).forEach(function (lang) {
      var body = document.querySelector('.body[data-lang="' + lang + '"]');
      if (body) body.innerHTML = data.html[lang];
    });
  }

  function check() {
    var body = new FormData(form);
    fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data && data.ok) show(data); })
      .catch(function () { /* the Preview button still works */ });
  }

  form.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(check, 500);
  });
}());

// The design page: one form sets the draw, the blocking question and the groups of its
// answers. Without this script every part is shown and works; with it, only the parts the
// choices made above need are shown (hidden parts are still sent and simply unused).
(function () {
  var form = document.getElementById('design-form');
  if (!form) return;
  var select = form.querySelector('select[name="block_by"]');

  function scheme() {
    var checked = form.querySelector('input[name="scheme"]:checked');
    return checked ? checked.value : '';
  }

  function update() {
    var chosen = scheme();
    form.querySelectorAll('[data-when-scheme]').forEach(function (part) {
      part.hidden = part.getAttribute('data-when-scheme') !== chosen;
    });
    form.querySelectorAll('[data-unless-scheme]').forEach(function (part) {
      part.hidden = part.getAttribute('data-unless-scheme') === chosen;
    });
    form.querySelectorAll('[data-when-question]').forEach(function (part) {
      part.hidden = !select || part.getAttribute('data-when-question') !== select.value;
    });
  }

  form.addEventListener('change', update);
  update();
}());
