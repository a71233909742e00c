/* The portal's side of embedding, loaded only in the compact layout (?embed=1).
 *
 * Tells the host page how tall the portal's page is, so the host's static/embed.js can size
 * the iframe, and keeps other sites' links out of the frame. Messages go only to the host's
 * origin, once it is known to be one of EMBED_ORIGINS (listed in the meta tag):
 *   - Chromium and Safari name it in location.ancestorOrigins;
 *   - elsewhere the host's embed.js answers our "ready" with a "hello", whose origin the
 *     browser vouches for;
 *   - with a single allowed origin and no wildcard, it can only be that one (CSP frame-ancestors).
 * Protocol (docs/embedding.md): {type: "support-portal:height", height} on every change of
 * height, {type: "support-portal:navigated"} after each page change; the host may send
 * {type: "support-portal:context", pageUrl, pageTitle, fields}, taken only from an allowed origin.
 */
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="support-portal-embed"]');
  if (!meta || window.parent === window) return;
  var allowed = meta.content.split(/\s+/).filter(Boolean);
  var hostOrigin = null;
  var lastHeight = -1;

  function isAllowed(origin) {
    return allowed.some(function (pattern) {
      if (pattern.indexOf("://*.") < 0) return pattern === origin;
      // https://*.example.com: any subdomain, same scheme and port, as frame-ancestors reads it.
      var scheme = pattern.split("://*.")[0];
      var rest = pattern.split("://*.")[1];
      var url;
      try { url = new URL(origin); } catch (e) { return false; }
      var host = rest.split(":")[0];
      var port = rest.split(":")[1] || "";
      return url.protocol === scheme + ":" && url.port === port && url.hostname.slice(-host.length - 1) === "." + host;
    });
  }

  function send(message) {
    if (hostOrigin) window.parent.postMessage(message, hostOrigin);
  }

  function reportHeight(always) {
    // The document's own height: html has no fixed height, so this never grows with the frame.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (always || height !== lastHeight) {
      lastHeight = height;
      send({ type: "support-portal:height", height: height });
    }
  }

  function connect(origin) {
    if (hostOrigin || !isAllowed(origin)) return;
    hostOrigin = origin;
    reportHeight(true);
    send({ type: "support-portal:navigated" });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data) return;
    if (event.data.type === "support-portal:context") {
      takeContext(event);
    } else if (event.data.type === "support-portal:hello") {
      if (hostOrigin) reportHeight(true);  // a host script that came late missed the first report
      else connect(event.origin);
    }
  });

  // The host page's context ({pageUrl, pageTitle, fields}), only from an allowed origin. It
  // stays for this frame's visit; static/portal.js shows it under "Sent with your request"
  // and the server keeps of it only capped text (webapp/sent_with.py).
  function takeContext(event) {
    if (!isAllowed(event.origin)) return;
    var data = event.data;
    var context = JSON.stringify({pageUrl: data.pageUrl, pageTitle: data.pageTitle, fields: data.fields});
    if (context.length > 20000) return;
    window.portalHostContext = context;
    document.dispatchEvent(new CustomEvent("portal:host-context"));
  }

  var ancestors = window.location.ancestorOrigins;
  if (ancestors && ancestors.length) {
    connect(ancestors[0]);
  } else if (allowed.length === 1 && allowed[0].indexOf("*") < 0) {
    connect(allowed[0]);
  }
  // Carries nothing but its type; the host answers with "hello" from its own origin.
  window.parent.postMessage({ type: "support-portal:ready" }, "*");

  if (window.ResizeObserver) {
    new ResizeObserver(function () { reportHeight(false); }).observe(document.documentElement);
  } else {
    window.addEventListener("load", function () { reportHeight(false); });
    setInterval(function () { reportHeight(false); }, 500);
  }

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail && event.detail.boosted) send({ type: "support-portal:navigated" });
  });

  // A link to another site opens in a new tab: in the frame it would replace the portal
  // (and most sites refuse to be framed anyway).
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (link && !link.target && link.origin !== window.location.origin && /^https?:$/.test(link.protocol)) {
      link.target = "_blank";
      link.rel = "noopener";
    }
  }, true);
})();
