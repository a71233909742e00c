/* Support portal embed script, for the page that embeds the portal (docs/embedding.md).
 *
 *   <iframe data-support-portal src="https://support.example.com/?embed=1"
 *           title="Support requests" style="width: 100%; border: 0"></iframe>
 *   <script src="https://support.example.com/static/embed.js" defer></script>
 *
 * Sizes each iframe[data-support-portal] to the height of the portal's page and brings the
 * frame's top into view when the portal moves to another page, and tells the portal which page
 * it is on (address, title and the frame's data-portal-fields), sent only to the origin of
 * the frame's src. Messages are accepted only from the frame itself and from that origin.
 */
(function () {
  "use strict";
  var SELECTOR = "iframe[data-support-portal]";
  var MAX_HEIGHT = 100000;

  function portalOrigin(frame) {
    try { return new URL(frame.src, window.location.href).origin; } catch (e) { return null; }
  }

  function frameOf(source) {
    var frames = document.querySelectorAll(SELECTOR);
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === source) return frames[i];
    }
    return null;
  }

  // This page, for "Sent with your request": its address and title, and the fields of the
  // frame's data-portal-fields attribute (a JSON object of names and values, all text).
  function context(frame) {
    var fields = {};
    try { fields = JSON.parse(frame.getAttribute("data-portal-fields") || "{}"); } catch (e) { fields = {}; }
    return { type: "support-portal:context", pageUrl: window.location.href, pageTitle: document.title, fields: fields };
  }

  function hello(frame) {
    var origin = portalOrigin(frame);
    if (!origin || !frame.contentWindow) return;
    frame.contentWindow.postMessage({ type: "support-portal:hello" }, origin);
    frame.contentWindow.postMessage(context(frame), origin);
  }

  window.addEventListener("message", function (event) {
    var data = event.data;
    if (!data || typeof data.type !== "string" || data.type.indexOf("support-portal:") !== 0) return;
    var frame = frameOf(event.source);
    if (!frame || event.origin !== portalOrigin(frame)) return;
    if (data.type === "support-portal:ready") {
      hello(frame);
    } else if (data.type === "support-portal:height") {
      var height = Number(data.height);
      if (isFinite(height) && height > 0) frame.style.height = Math.min(Math.ceil(height), MAX_HEIGHT) + "px";
    } else if (data.type === "support-portal:navigated") {
      // Scrolled past the frame's top: show the new page from its start.
      if (frame.getBoundingClientRect().top < 0) frame.scrollIntoView({ block: "start" });
    }
  });

  // A frame that loaded before this script ran sent its "ready" unheard: greet it now. One
  // still on about:blank is readable from here (it has this page's origin) and is left alone.
  var frames = document.querySelectorAll(SELECTOR);
  for (var i = 0; i < frames.length; i++) {
    try { void frames[i].contentWindow.location.href; } catch (e) { hello(frames[i]); }
  }
})();
