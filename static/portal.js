// The new-request form's file picker: lists the chosen files before sending, warns about
// files the portal will refuse, and shows upload progress. Everything works without it.
(function () {
  if (window.portalScriptLoaded) return; // boosted navigation may run this tag again
  window.portalScriptLoaded = true;

  function sizeText(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " kB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
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
    var form = event.target.closest && event.target.closest(".request-form");
    if (!form || !event.detail.lengthComputable) return;
    var bar = form.querySelector(".upload-progress");
    var percent = Math.round((event.detail.loaded / event.detail.total) * 100);
    bar.hidden = false;
    bar.value = percent;
    form.querySelector(".upload-note").textContent = percent + "%";
  });
})();
