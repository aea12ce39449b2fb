// messages.js: the delivery counts of an organiser's messages move while
// emails wait (admin_messages.html: the list under the compose form, the
// page of one message), without reloading the page, so that nothing typed
// into the form is lost. It polls the JSON that the element with data-poll
// names (GET …/messages.json) and writes each message's counts into the
// elements with data-message="id" and data-count="delivered" (and
// recipients, queued, failed); it stops once no email waits. Without
// script the page of one message reloads itself instead (<noscript>).
(function () {
  "use strict";
  var root = document.querySelector("[data-poll]");
  if (!root || !window.fetch) return;
  var url = root.getAttribute("data-poll");
  var note = document.getElementById("m-updating");
  var failures = 0;
  var every = 3000;

  function waiting() {
    var q = root.querySelectorAll('[data-count="queued"]');
    for (var i = 0; i < q.length; i++) {
      if (q[i].textContent.trim() !== "0") return true;
    }
    return false;
  }

  function show(messages) {
    messages.forEach(function (m) {
      var rows = root.matches('[data-message="' + m.id + '"]') ? [root] :
        root.querySelectorAll('[data-message="' + m.id + '"]');
      Array.prototype.forEach.call(rows, function (row) {
        ["recipients", "delivered", "queued", "failed"].forEach(function (k) {
          var el = row.querySelector('[data-count="' + k + '"]');
          if (el && el.textContent !== String(m[k])) el.textContent = String(m[k]);
        });
      });
    });
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      })
      .then(function (d) {
        failures = 0;
        show(d.messages || []);
        next();
      })
      .catch(function () {
        failures++;
        next();
      });
  }

  // A server that keeps failing is asked less and less often, and after a
  // few tries not at all: the page still works, the counts stand still.
  function next() {
    var on = waiting() && failures < 6;
    if (note) note.hidden = !on;
    if (on) setTimeout(poll, every * (1 + failures));
  }

  next();
})();
