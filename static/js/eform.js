// E-forms (templates/transactions/_eform.html): a field with data-show-if is shown only while
// the field it depends on has one of the values in data-show-values. A hidden field's inputs are
// disabled, so the browser neither checks nor sends them; the server drops them too.
(() => {
  const valueOf = (root, name) => {
    const inputs = [...root.querySelectorAll("input, select, textarea")].filter(
      (element) => element.name === name,
    );
    if (inputs.length === 0) return "";
    if (inputs[0].type === "checkbox") return inputs[0].checked ? "true" : "false";
    if (inputs[0].type === "radio") {
      const checked = inputs.find((input) => input.checked);
      return checked ? checked.value : "";
    }
    return inputs[0].value.trim();
  };

  const update = (root) => {
    for (const wrapper of root.querySelectorAll("[data-show-if]")) {
      const values = JSON.parse(wrapper.dataset.showValues);
      const shown = values.includes(valueOf(root, wrapper.dataset.showIf));
      wrapper.hidden = !shown;
      for (const input of wrapper.querySelectorAll("input, select, textarea")) {
        input.disabled = !shown;
      }
    }
  };

  const updateAll = () => document.querySelectorAll("[data-eform]").forEach(update);
  const onChange = (event) => {
    const root = event.target.closest && event.target.closest("[data-eform]");
    if (root) update(root);
  };
  document.addEventListener("change", onChange);
  document.addEventListener("input", onChange);
  // Forms swapped in by htmx are set up like the page's own.
  document.addEventListener("htmx:load", updateAll);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", updateAll);
  } else {
    updateAll();
  }
})();
