// Runs inside an embedded Treffpunkt page (/embed/…): tells the page that
// frames it how tall the content is, so that /static/embed.js can size the
// iframe. The height is no secret, so any parent may read it.
(function () {
  "use strict";
  if (window.parent === window) return;
  var last = 0;
  function send() {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h === last) return;
    last = h;
    window.parent.postMessage({ type: "treffpunkt:height", height: h }, "*");
  }
  function start() {
    send();
    if (window.ResizeObserver) new ResizeObserver(send).observe(document.documentElement);
    window.addEventListener("load", send);
    window.addEventListener("resize", send);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
