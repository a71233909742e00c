// Small enhancements; everything works without them. A form that comes back with errors
// gets the focus on its problems. The new-request form uploads each file as it is chosen,
// dropped or pasted, and refuses at once the files the portal would refuse.
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
    if (form.querySelectorAll(".kept-file, .uploading").length >= Number(form.dataset.maxFiles)) {
      return form.dataset.tooManyMessage;
    }
    return "";
  }

  // Each file goes up as soon as it is chosen, dropped or pasted, with its own progress bar;
  // the server answers with its kept-file row (templates/support/_kept_file.html), whose
  // signed token Send carries, so sending the form does no file work. A file the portal
  // would refuse by its name or size is refused here at once and never sent.
  function sendFile(form, file) {
    var item = document.createElement("li");
    var name = document.createElement("span");
    name.className = "file-name";
    name.textContent = file.name;
    var size = document.createElement("span");
    size.className = "muted";
    size.textContent = " " + sizeText(file.size);
    item.append(name, size);
    var problem = problemOf(file, form);
    form.querySelector(".chosen-files").append(item);
    if (problem) {
      item.className = "refused-file";
      var note = document.createElement("span");
      note.className = "error";
      note.textContent = " " + problem;
      item.append(note);
      return;
    }
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", form.dataset.progressLabel + " " + file.name);
    item.className = "uploading";
    item.append(" ", bar);
    var body = new FormData();
    body.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.dataset.uploadUrl);
    xhr.setRequestHeader("X-CSRFToken", csrfToken(form));
    xhr.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) bar.value = Math.round((event.loaded / event.total) * 100);
    });
    xhr.addEventListener("loadend", function () {
      var answer = document.createElement("template");
      if (xhr.status === 200) answer.innerHTML = xhr.responseText.trim();
      var row = answer.content.firstElementChild;
      if (row && row.matches("li")) {
        item.replaceWith(row);
      } else {  // the network, or a page instead of a row (an expired session, say)
        item.className = "refused-file";
        bar.replaceWith(Object.assign(document.createElement("span"), {className: "error", textContent: form.dataset.failedMessage}));
      }
      if (form.dataset.sendWhenUploaded && !form.querySelector(".uploading")) {
        delete form.dataset.sendWhenUploaded;
        form.querySelector(".upload-note").textContent = "";
        form.requestSubmit();
      }
    });
    xhr.send(body);
  }

  function csrfToken(form) {
    var field = form.querySelector("input[name=csrf_token]");
    return field ? field.value : "";  // none where CSRF is off (some tests)
  }

  // The forms whose files go up as they are chosen (the new-request form); any other form
  // with files (a reply) sends them with its post, with the post's progress below.
  var UPLOADING = ".request-form[data-upload-url]";

  function screenshotName(file, index) {
    // A pasted screenshot is "image.png" in every browser: give each its own name.
    var stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, "").replace("T", "-");
    var extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
    return new File([file], "screenshot-" + stamp + (index ? "-" + (index + 1) : "") + "." + extension, {type: file.type});
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches(UPLOADING + " input[type=file]")) return;
    Array.prototype.forEach.call(input.files, function (file) { sendFile(input.form, file); });
    input.value = "";  // sent already: the form's post carries their tokens, not the files
  });

  document.addEventListener("paste", function (event) {
    var form = document.querySelector(UPLOADING);
    var files = event.clipboardData ? Array.prototype.slice.call(event.clipboardData.files) : [];
    if (!form || !files.length) return;
    event.preventDefault();
    files.forEach(function (file, index) {
      sendFile(form, /^image\//.test(file.type) ? screenshotName(file, index) : file);
    });
  });

  function carriesFiles(event) {
    return event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0;
  }
  // Files dropped anywhere on the form's page are the form's: a drop beside it would
  // otherwise open the file in place of the page, and what was typed would be lost.
  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var form = document.querySelector(UPLOADING);
      if (!form || !carriesFiles(event)) return;
      event.preventDefault();
      form.classList.add("dropping");
    });
  });
  document.addEventListener("dragleave", function (event) {
    var form = document.querySelector(UPLOADING);
    if (form && !event.relatedTarget) form.classList.remove("dropping");  // left the window
  });
  document.addEventListener("drop", function (event) {
    var form = document.querySelector(UPLOADING);
    if (!form || !carriesFiles(event)) return;
    event.preventDefault();
    form.classList.remove("dropping");
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { sendFile(form, file); });
  });

  // Send while a file is still going up: the form goes as soon as the last one is there.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches(UPLOADING) || !form.querySelector(".uploading")) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    form.dataset.sendWhenUploaded = "1";
    form.querySelector(".upload-note").textContent = form.dataset.waitMessage;
  }, true);

  document.addEventListener("DOMContentLoaded", showDropHint);
  document.addEventListener("htmx:afterSettle", showDropHint);
  function showDropHint() {
    var hint = document.querySelector(UPLOADING + " .drop-hint");
    if (hint) hint.hidden = false;
  }

  document.addEventListener("htmx:xhr:progress", function (event) {
    var form = event.target;  // the form's own post, not the endpoint list's request inside it
    if (!form.matches || !form.matches(".request-form") || !event.detail.lengthComputable) return;
    var bar = form.querySelector(".upload-progress");
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar.hidden = false;
    bar.value = percent;
    form.querySelector(".upload-note").textContent = percent + "%";
  });
  // "Sent with your request": once the page knows the browser's time zone, or the host page's
  // context arrives (static/embedded.js), the server renders the box again with them.
  function refreshSentWith() {
    var box = document.getElementById("sent-context");
    if (!box) return;
    var form = box.closest("form");
    var context = form.querySelector("input[name=context]");
    var zone = form.querySelector("input[name=time_zone]");
    var host = window.portalHostContext || context.value;
    var timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    if (context.value === host && zone.value === timeZone) return;
    context.value = host;
    zone.value = timeZone;
    var body = new URLSearchParams({context: host, time_zone: timeZone});
    if (form.querySelector("input[name=leave_out_context]").checked) body.append("leave_out_context", "y");
    fetch(box.dataset.url, {method: "POST", body: body, credentials: "same-origin",
                            headers: {"X-CSRFToken": csrfToken(form)}})
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (text) {
        var answer = document.createElement("template");
        answer.innerHTML = text.trim();
        var fresh = answer.content.firstElementChild;
        var current = document.getElementById("sent-context");
        if (!fresh || fresh.id !== "sent-context" || !current) return;
        if (fresh.querySelector("input[name=context]").value !== current.querySelector("input[name=context]").value) return;  // a newer one is coming
        fresh.open = current.open;
        fresh.querySelector("input[name=leave_out_context]").checked = current.querySelector("input[name=leave_out_context]").checked;
        current.replaceWith(fresh);
      })
      .catch(function () {});  // the box stays as it was; the form still sends what it holds
  }
  document.addEventListener("DOMContentLoaded", refreshSentWith);
  document.addEventListener("htmx:afterSettle", refreshSentWith);
  document.addEventListener("portal:host-context", refreshSentWith);
})();
