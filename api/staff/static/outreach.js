// The outreach field log's offline queue. Each entry is kept in localStorage with a
// client_ref made here, and sent when there is a connection. The server stores an entry
// once per client_ref, so an entry whose answer was lost is simply sent again.
(function () {
  "use strict";
  var form = document.getElementById("contact-form");
  if (!form) return;
  // One queue per worker: entries are only ever sent under the session of who wrote them.
  var KEY = "tsunagu.outreach.queue." + form.dataset.user;
  var statusLine = document.getElementById("queue-status");
  var failedList = document.getElementById("queue-failed");
  var sending = false;

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(queue) { localStorage.setItem(KEY, JSON.stringify(queue)); }
  function csrf() { return form.querySelector("[name=csrf_token]").value; }

  function newRef() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16)), s = "";
    for (var i = 0; i < b.length; i++) s += (b[i] + 256).toString(16).slice(1);
    return s;
  }

  function show(message) {
    var n = load().length;
    statusLine.textContent = message || (n
      ? "送信待ち " + n + " 件：この端末に保存しています。つながったら自動で送ります。"
      : "送信待ちはありません。");
  }

  function fail(entry, why) {
    var li = document.createElement("li");
    li.textContent = "送れなかった記録（" + entry.contacted_at + "）：" + why;
    failedList.appendChild(li);
    failedList.hidden = false;
  }

  function remove(ref) {
    store(load().filter(function (e) { return e.client_ref !== ref; }));
  }

  async function flush() {
    if (sending) return;
    sending = true;
    var sent = 0;
    try {
      var queue = load();
      for (var i = 0; i < queue.length; i++) {
        var entry = queue[i], res;
        try {
          res = await fetch("/staff/outreach/logs", {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
            body: JSON.stringify(entry),
          });
        } catch (e) {
          break;  // no connection: the entries wait
        }
        if (res.status === 201 || res.status === 200) {
          remove(entry.client_ref);
          sent++;
        } else if (res.status === 401 || res.status === 403) {
          show("ログインし直してください。送信待ちの記録はこの端末に残っています。");
          return;
        } else if (res.status >= 500 || res.status === 429) {
          break;  // the server will take it later
        } else {
          var body = {};
          try { body = await res.json(); } catch (e) { /* an HTML answer */ }
          fail(entry, body.message || ("エラー " + res.status));
          remove(entry.client_ref);
        }
      }
    } finally {
      sending = false;
    }
    show();
    if (sent && load().length === 0) {
      window.location.assign("/staff/outreach?ok=contact");  // the list shows the new logs
    }
  }

  function localNow() {
    var d = new Date();
    d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
    return d.toISOString().slice(0, 16);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = form.elements;
    var person = f.person_id.value;
    var when = f.contacted_at.value ? new Date(f.contacted_at.value) : new Date();
    var queue = load();
    queue.push({
      client_ref: newRef(),
      person_id: person || null,
      unidentified: person ? null : (f.unidentified.value || null),
      contacted_at: when.toISOString(),
      place: f.place.value || null,
      method: f.method.value,
      outcome: f.outcome.value,
      notes: f.notes.value || null,
      next_step: f.next_step.value || null,
    });
    store(queue);
    form.reset();
    f.contacted_at.value = localNow();
    show("保存しました（送信待ち " + queue.length + " 件）。");
    flush();
  });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/staff/outreach-sw.js", { scope: "/staff/outreach" })
      .catch(function () { /* no worker (plain http on a LAN): the queue works without */ });
  }
  window.addEventListener("online", flush);
  setInterval(function () { if (load().length) flush(); }, 5000);
  show();
  flush();
})();
