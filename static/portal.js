// Small enhancements; everything works without them. A form that comes back with errors
// gets the focus on its problems. The new-request form's file picker lists the chosen files
// before sending, warns about files the portal will refuse, and shows upload progress.
(function () {
  if (window.portalScriptLoaded) return; // boosted navigation may run this tag again
  window.portalScriptLoaded = true;

  // A form that came back with errors: focus its summary, else its first invalid field, so a
  // screen reader reads what is wrong and the keyboard goes on from there. After any other
  // page change htmx made (hx-boost), focus the new page's heading, as a page load would
  // announce the new page; unless htmx focused something itself (autofocus, a kept id).
  function focusProblems(root) {
    var target = root.querySelector(".error-summary") || root.querySelector("[aria-invalid=true]");
    if (target && !target.contains(document.activeElement)) target.focus();
    return Boolean(target);
  }
  document.addEventListener("DOMContentLoaded", function () { focusProblems(document); });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.target.querySelector || focusProblems(event.target)) return;
    var heading = document.querySelector("main h1");
    if (event.detail.boosted && heading && document.activeElement === document.body) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({preventScroll: true});  // htmx scrolled already; in a frame, the host stays put
    }
  });

  // A region that refreshes itself (hx-trigger "every ...") skips a refresh while the keyboard
  // is inside it on something htmx could not focus again (it refocuses only elements with an
  // id): replacing it would throw a keyboard or screen reader user back to the top.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    var focused = document.activeElement;
    if (/^every /.test(elt.getAttribute("hx-trigger") || "") && elt.contains(focused) && !focused.id) {
      event.preventDefault();
    }
  });

  // Conditional polls (webapp/polls.py): a poll sends the ETag of what it shows, and the
  // server answers 304 when that is still current; htmx then leaves the region as it is.
  // Set by hand, If-None-Match also keeps the browser's cache out of it: the 304 reaches htmx.
  var pollTags = {};
  function pollUrl(elt) {
    return /^every /.test(elt.getAttribute("hx-trigger") || "") ? elt.getAttribute("hx-get") : null;
  }
  document.addEventListener("htmx:configRequest", function (event) {
    var url = pollUrl(event.detail.elt);
    if (url && pollTags[url]) event.detail.headers["If-None-Match"] = pollTags[url];
  });
  // Before the swap: afterwards the region is out of the document and its events stop there.
  document.addEventListener("htmx:beforeOnLoad", function (event) {
    var url = pollUrl(event.detail.elt);
    var tag = event.detail.xhr && event.detail.xhr.getResponseHeader("ETag");
    if (url && tag) pollTags[url] = tag;
  });

  // File sizes as the server writes them (webapp/templating.py): 1024-based, the number in the
  // page's language (10,4 kB in Turkish).
  function sizeText(bytes) {
    var number = new Intl.NumberFormat(document.documentElement.lang, {minimumFractionDigits: 1, maximumFractionDigits: 1});
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return number.format(bytes / 1024) + " kB";
    return number.format(bytes / 1024 / 1024) + " MB";
  }

  function problemOf(file, form) {
    var maxBytes = Number(form.dataset.maxMb) * 1024 * 1024;
    var allowed = form.dataset.extensions.split(",");
    var dot = file.name.lastIndexOf(".");
    var extension = dot < 0 ? "" : file.name.slice(dot + 1).toLowerCase();
    if (allowed.indexOf(extension) < 0) return form.dataset.typeMessage;
    if (file.size > maxBytes) return form.dataset.sizeMessage;
    if (file.size === 0) return form.dataset.emptyMessage;
    return "";
  }

  function listChosen(input) {
    var form = input.form;
    var list = form.querySelector(".chosen-files");
    var bad = 0;
    list.replaceChildren();
    Array.prototype.forEach.call(input.files, function (file) {
      var item = document.createElement("li");
      var name = document.createElement("span");
      name.className = "file-name";
      name.textContent = file.name;
      var size = document.createElement("span");
      size.className = "muted";
      size.textContent = " " + sizeText(file.size);
      item.append(name, size);
      var problem = problemOf(file, form);
      if (problem) {
        bad += 1;
        var note = document.createElement("span");
        note.className = "error";
        note.textContent = " " + problem;
        item.append(note);
      }
      list.append(item);
    });
    var tooMany = input.files.length > Number(form.dataset.maxFiles);
    input.setCustomValidity(bad || tooMany ? form.dataset.refusedMessage : "");
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches(".request-form input[type=file]")) listChosen(event.target);
  });

  // Files the portal would refuse are not uploaded at all: say so before sending.
  document.addEventListener("submit", function (event) {
    if (!event.target.matches || !event.target.matches(".request-form")) return;
    var input = event.target.querySelector("input[type=file]");
    if (!input.checkValidity()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      input.reportValidity();
    }
  }, true);

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target;  // the form's own post, not the endpoint list's request inside it
    if (!form.matches || !form.matches(".request-form") || !event.detail.lengthComputable) return;
    var bar = form.querySelector(".upload-progress");
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar.hidden = false;
    bar.value = percent;
    form.querySelector(".upload-note").textContent = percent + "%";
  });
})();
