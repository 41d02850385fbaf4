// The explorer's relabel form: show only the value control of the label chosen (complaint, sentiment, spam or
// services). Without this script every control shows and the server reads the one of the chosen label.
(function () {
  "use strict";
  function sync() {
    document.querySelectorAll("select[data-relabel-field]").forEach(function (select) {
      var form = select.form || document;
      form.querySelectorAll("[data-relabel-for]").forEach(function (group) {
        group.hidden = group.getAttribute("data-relabel-for") !== select.value;
      });
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-relabel-field]")) sync();
  });
  document.addEventListener("DOMContentLoaded", sync);
  document.addEventListener("htmx:afterSwap", sync); // the filters swap the results and this form in
})();
