// The demo page's own code: lists what the collector stored, and re-asks on demand.
(function () {
  var rows = document.getElementById('rows');
  // `cargo xtask demo` prints this page's address with the collector's admin token after '#';
  // it is kept for the session, where the dashboard (/dashboard) finds it too.
  var KEY = 'nps-dashboard-token', m = location.hash.match(/token=([A-Za-z0-9_-]+)/);
  if (m) {
    sessionStorage.setItem(KEY, m[1]);
    history.replaceState(null, '', location.pathname);
  }
  var token = sessionStorage.getItem(KEY);
  function cell(tr, text) {
    var td = document.createElement('td');
    td.textContent = text == null ? '' : String(text);
    tr.appendChild(td);
  }
  function refresh() {
    fetch('/v1/responses?limit=20', { headers: token ? { Authorization: 'Bearer ' + token } : {} })
      .then(function (r) { return r.ok ? r.json() : []; })
      .then(function (list) {
        if (!list.length) return;
        rows.textContent = '';
        list.forEach(function (r) {
          var tr = document.createElement('tr');
          cell(tr, (r.shown_at || '').replace('T', ' ').slice(0, 19));
          cell(tr, r.score);
          cell(tr, r.segment + (r.silent_reason ? ' (' + r.silent_reason + ')' : ''));
          cell(tr, r.state);
          cell(tr, r.comment);
          rows.appendChild(tr);
        });
      })
      .catch(function () {});
  }
  refresh();
  setInterval(refresh, 1500);
  document.getElementById('ask').addEventListener('click', function () {
    window.NpsWidget && window.NpsWidget.show({ force: true });
  });
})();
