// The upload form's checks, before anything is sent: a wrong prefix or a missing "trusted" tick
// is caught here, so the token the customer pasted (Google shows it only once) stays in its field.
// The server checks the same things again and says the same words (views/forms.py); without
// JavaScript its refusal page keeps the token in the field instead.
(function () {
  "use strict";
  var form = document.querySelector("form.upload-form");
  if (!form) {
    return;
  }
  var summary = document.querySelector(".client-check-summary");

  function clearProblems() {
    form.querySelectorAll(".client-check").forEach(function (message) {
      message.remove();
    });
    form.querySelectorAll("[data-client-invalid]").forEach(function (input) {
      input.classList.remove("is-invalid");
      input.removeAttribute("aria-invalid");
      input.removeAttribute("data-client-invalid");
    });
    if (summary) {
      summary.hidden = true;
    }
  }

  function markProblem(input, text) {
    var message = document.createElement("div");
    message.className = "invalid-feedback d-block client-check";
    message.id = input.id + "_client_check";
    message.textContent = text;
    input.classList.add("is-invalid");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("data-client-invalid", "");
    var described = input.getAttribute("aria-describedby") || "";
    if (described.split(" ").indexOf(message.id) === -1) {
      input.setAttribute("aria-describedby", (described + " " + message.id).trim());
    }
    // after the checkbox's label, or right under a text field
    var anchor = input.type === "checkbox" && input.parentNode.querySelector("label")
      ? input.parentNode.querySelector("label")
      : input;
    anchor.insertAdjacentElement("afterend", message);
  }

  function problems() {
    var found = [];
    var token = form.querySelector("#id_token");
    if (token && token.value.trim() === "") {
      found.push([token, "Paste the token Google Admin showed you."]);
    }
    form.querySelectorAll("[data-expected-prefix]").forEach(function (input) {
      if (input.value.trim() !== input.getAttribute("data-expected-prefix")) {
        found.push([input, input.getAttribute("data-mismatch-message")]);
      }
    });
    var trusted = form.querySelector("#id_trusted");
    if (trusted && !trusted.checked) {
      found.push([trusted, trusted.getAttribute("data-required-message")]);
    }
    return found;
  }

  form.addEventListener("submit", function (event) {
    clearProblems();
    var found = problems();
    if (found.length === 0) {
      return;
    }
    event.preventDefault();
    found.forEach(function (problem) {
      markProblem(problem[0], problem[1]);
    });
    if (summary) {
      summary.hidden = false;
    }
    found[0][0].focus();
  });
})();
