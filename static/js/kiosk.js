// The kiosk: one touch issues one ticket. A second tap while the first request is on its way
// (touch screens bounce; people tap twice) must not issue another.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.matches("[data-issue-form]")) return;
  if (form.dataset.sent) {
    event.preventDefault();
    return;
  }
  form.dataset.sent = "true";
  form.classList.add("sending");
  // Disabled later, so the pressed button's name and value still go with the form.
  window.setTimeout(() => {
    form.querySelectorAll("button").forEach((button) => {
      button.disabled = true;
    });
  }, 0);
});
