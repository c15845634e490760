// Progressive enhancement for every page; the pages work without it.
"use strict";

function addCopyButtons() {
  const labels = document.body.dataset;
  for (const block of document.querySelectorAll("figure.code-block")) {
    const caption = block.querySelector("figcaption");
    const code = block.querySelector("pre");
    if (!caption || !code || !navigator.clipboard) continue;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = labels.copyLabel;
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(code.innerText.replace(/\n$/, ""));
        button.textContent = labels.copiedLabel;
      } catch {
        button.textContent = labels.copyFailedLabel;
      }
      setTimeout(() => { button.textContent = labels.copyLabel; }, 2000);
    });
    caption.append(button);
  }
}

document.addEventListener("DOMContentLoaded", addCopyButtons);
