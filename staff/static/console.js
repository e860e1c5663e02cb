// motcua staff console: a few progressive enhancements; every page works without them.
(function () {
  "use strict";

  // Forms with data-confirm ask before submitting (e.g. removing every edit).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });

  // A changed input in the edit form marks its label, so staff see what they will save.
  var edit = document.getElementById("edit-form");
  if (edit) {
    edit.addEventListener("input", function (event) {
      var label = event.target.closest("label, .channel");
      if (label) {
        label.classList.add("dirty");
      }
    });
  }

  // The correction search box suggests procedures while typing (GET /api/procedures);
  // the Search button still reloads the page with the results for browsers without JS.
  var box = document.getElementById("procedure-search");
  var choices = document.querySelector("#correct-form fieldset");
  if (box && choices && window.fetch) {
    var timer = null;
    var latest = 0;
    var render = function (items) {
      var legend = choices.querySelector("legend");
      choices.textContent = "";
      if (legend) {
        choices.appendChild(legend);
      }
      items.forEach(function (hit) {
        var label = document.createElement("label");
        label.className = "choice";
        var input = document.createElement("input");
        input.type = "radio";
        input.name = "code";
        input.value = hit.code;
        input.required = true;
        var code = document.createElement("b");
        code.textContent = hit.code;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" "));
        label.appendChild(code);
        label.appendChild(document.createTextNode(" " + hit.name));
        if (hit.name_en) {
          var en = document.createElement("i");
          en.textContent = " (" + hit.name_en + ")";
          label.appendChild(en);
        }
        choices.appendChild(label);
      });
    };
    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      var text = box.value.trim();
      if (text.length < 2) {
        return;
      }
      timer = window.setTimeout(function () {
        var ticket = ++latest;
        fetch("/api/procedures?limit=8&q=" + encodeURIComponent(text), {
          credentials: "same-origin",
          headers: { Accept: "application/json" }
        })
          .then(function (resp) { return resp.ok ? resp.json() : null; })
          .then(function (data) {
            if (data && ticket === latest && data.items.length) {
              render(data.items);
            }
          })
          .catch(function () {});
      }, 250);
    });
  }
})();
