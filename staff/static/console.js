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
})();
