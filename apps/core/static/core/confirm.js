"use strict";
// A button with data-confirm="question" asks before it submits its form. Behaviour lives
// in static files only: the Content-Security-Policy forbids inline script and handlers.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) {
    event.preventDefault();
  }
});
