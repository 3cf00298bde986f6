// The calling-domain inline on a tenant's admin page: choosing the shared domain sets short
// meeting IDs, its only length (the server does the same for a new row, so this only shows it
// at once). One listener on the document also covers rows added with "Add another".
"use strict";
document.addEventListener("change", function (event) {
  var option = event.target;
  var match = /^(calling_domains-\d+)-option$/.exec(option.name || "");
  if (!match || option.value !== "shared") {
    return;
  }
  var length = document.querySelector('[name="' + match[1] + '-meeting_id_length"]');
  if (length) {
    length.value = "short";
  }
});
