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
