// Treffpunkt embed helper for member websites. Include it once on a page
// that has one or more Treffpunkt iframes:
//
//   <iframe src="https://treffpunkt.example/embed/events/SLUG?lang=de"
//           title="…" style="width:100%;border:0" height="700"></iframe>
//   <script src="https://treffpunkt.example/static/embed.js" async></script>
//
// The framed page reports its height with postMessage; this script accepts
// the message only from the origin it was loaded from, and only for the
// iframe that sent it, and sets that iframe's height.
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || !me.src) return;
  var origin = new URL(me.src, window.location.href).origin;
  window.addEventListener("message", function (e) {
    if (e.origin !== origin) return;
    var d = e.data;
    if (!d || d.type !== "treffpunkt:height" || typeof d.height !== "number") return;
    var h = Math.max(50, Math.min(Math.ceil(d.height), 20000));
    var frames = document.getElementsByTagName("iframe");
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === e.source) {
        frames[i].style.height = h + "px";
        frames[i].setAttribute("scrolling", "no");
      }
    }
  });
})();
