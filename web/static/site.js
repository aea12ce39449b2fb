// site.js: small behaviours of the pages, kept out of the HTML so that the
// Content-Security-Policy needs no 'unsafe-inline'.
//
// A form with data-confirm asks before it is sent (cancel an event, cancel
// or erase a registration).
document.addEventListener('submit', function (e) {
  var form = e.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    e.preventDefault();
  }
});

// Error summaries (class "alert", id "errors"): each entry links to its
// field. Browsers scroll to a fragment but do not focus it, so a keyboard or
// screen-reader user would have to find the field again; move focus there.
(function () {
  "use strict";
  document.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest('#errors a[href^="#"]');
    if (!a) return;
    var field = document.getElementById(a.getAttribute("href").slice(1));
    if (!field) return;
    e.preventDefault();
    field.focus();
    if (field.scrollIntoView) field.scrollIntoView({ block: "center" });
  });
  function focusSummary() {
    var s = document.getElementById("errors");
    if (s && document.activeElement !== s && !s.contains(document.activeElement)) s.focus();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", focusSummary);
  else focusSummary();
})();

// A file field with data-preview="id" shows the chosen picture in the <img>
// of that id before it is uploaded (as a data: URL, which the CSP allows).
document.addEventListener("change", function (e) {
  var input = e.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.preview) return;
  var img = document.getElementById(input.dataset.preview);
  var file = input.files && input.files[0];
  if (!img) return;
  if (!file || !/^image\//.test(file.type)) {
    img.hidden = true;
    return;
  }
  var reader = new FileReader();
  reader.onload = function () {
    img.src = reader.result;
    img.hidden = false;
  };
  reader.readAsDataURL(file);
});

