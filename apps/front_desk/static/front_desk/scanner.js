// The parcel arrival form: a barcode scanner types a tracking number and presses Enter.
// In the tracking numbers box Enter starts the next line (one parcel per line); in any
// other field it moves to the next field instead of submitting a half-filled form.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("parcel_form");
  if (!form) return;
  form.addEventListener("keydown", (event) => {
    const field = event.target;
    if (event.key !== "Enter" || field.tagName !== "INPUT" || field.type === "submit") return;
    event.preventDefault();
    const fields = Array.from(form.querySelectorAll("input, select, textarea")).filter(
      (f) => f.type !== "hidden" && !f.disabled
    );
    const next = fields[fields.indexOf(field) + 1];
    if (next) next.focus();
  });
});
