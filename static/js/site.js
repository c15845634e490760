// Progressive enhancement for every page; the pages work without it.
"use strict";

// A polite live region: screen readers announce what is written into it, which they do
// not reliably do for a button whose label changes under the focus.
function createAnnouncer() {
  const region = document.createElement("div");
  region.className = "visually-hidden";
  region.setAttribute("role", "status");
  document.body.append(region);
  return region;
}

function addCopyButtons() {
  const labels = document.body.dataset;
  const blocks = document.querySelectorAll("figure.code-block");
  if (!blocks.length || !navigator.clipboard) return;
  const announcer = createAnnouncer();
  for (const block of blocks) {
    const caption = block.querySelector("figcaption");
    const code = block.querySelector("pre");
    if (!caption || !code) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = labels.copyLabel;
    let reset;
    button.addEventListener("click", async () => {
      let outcome;
      try {
        await navigator.clipboard.writeText(code.innerText.replace(/\n$/, ""));
        outcome = labels.copiedLabel;
      } catch {
        outcome = labels.copyFailedLabel;
      }
      button.textContent = outcome;
      // Emptied first, so copying twice in a row is announced twice.
      announcer.textContent = "";
      setTimeout(() => { announcer.textContent = outcome; }, 100);
      clearTimeout(reset);
      reset = setTimeout(() => {
        button.textContent = labels.copyLabel;
        announcer.textContent = "";
      }, 2000);
    });
    caption.append(button);
  }
}

document.addEventListener("DOMContentLoaded", addCopyButtons);
