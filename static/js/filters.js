// The filter bar: a preset hides the custom dates (so they are not sent) and applies at once;
// "Custom range" shows them. Selects marked data-autosubmit apply when changed.
(function () {
  "use strict";
  const form = document.querySelector("form.filters");
  if (!form) return;
  const preset = form.querySelector("select[name=preset]");
  const range = form.querySelector(".custom-range");

  function showRange() {
    const custom = preset.value === "custom";
    range.hidden = !custom;
    range.querySelectorAll("input").forEach(function (input) {
      input.disabled = !custom;
    });
  }

  if (preset && range) {
    showRange();
    preset.addEventListener("change", function () {
      showRange();
      if (preset.value !== "custom") form.requestSubmit();
    });
  }
  // Empty fields stay out of the address, so shared links read like the filter they are.
  form.addEventListener("submit", function () {
    form.querySelectorAll("input, select").forEach(function (field) {
      const unset = field.value === "" || (field.name === "has_error" && field.value === "unknown");
      if (unset) field.disabled = true;
    });
  });
  // Going back to this page restores it from the browser's cache as it was at submit time,
  // empty fields disabled: give them back, then hide the dates again unless custom.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) return;
    form.querySelectorAll("input:disabled, select:disabled").forEach(function (field) {
      field.disabled = false;
    });
    if (preset && range) showRange();
  });
  // The agent and team picker: choosing a suggestion adds it to the filter and applies it.
  form.querySelectorAll("[data-picker-input]").forEach(function (input) {
    const options = document.getElementById(input.getAttribute("list"));
    function choose() {
      const match = Array.prototype.find.call(options.options, function (option) {
        return option.value === input.value;
      });
      if (!match) return;
      const hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = match.dataset.kind;
      hidden.value = match.dataset.id;
      form.append(hidden);
      input.value = "";
      form.requestSubmit();
    }
    input.addEventListener("change", choose);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
        choose();
      }
    });
  });
  form.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () {
      form.requestSubmit();
    });
  });
})();
