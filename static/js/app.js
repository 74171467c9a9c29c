// Small progressive enhancements; every page works without them.
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-autosubmit]")) event.target.form.requestSubmit();
});
document.addEventListener("click", (event) => {
  if (event.target.matches("[data-print]")) window.print();
});
