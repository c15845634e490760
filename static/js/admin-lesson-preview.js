// The lesson form in the admin: a live preview of the text as typed, rendered by the server's own pipeline
// (the admin's "render" view), with the problems a save would report; and Tab that indents in the body's
// text box when the code editor (admin-lesson-editor.js) is not there.
// Without this script the form works as it is: preview after saving.
"use strict";

// "Insert an image": a file and its alt text, uploaded to the admin's upload view; the Markdown it answers is
// written at the cursor. The fields have no names, so the lesson form never sends them.
function addImageUpload(body, labels, form, changed) {
  const group = document.createElement("fieldset");
  group.className = "lesson-image-upload";
  const legend = document.createElement("legend");
  legend.textContent = labels.imageLegend;
  const field = (id, text, input) => {
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = text;
    input.id = id;
    const row = document.createElement("div");
    row.append(label, input);
    return row;
  };
  const file = document.createElement("input");
  file.type = "file";
  file.accept = "image/png,image/jpeg,image/webp,image/gif";
  const alt = document.createElement("input");
  alt.type = "text";
  alt.maxLength = 300;
  const button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = labels.insert;
  const outcome = document.createElement("p");
  outcome.setAttribute("role", "status");
  group.append(
    legend,
    field("lesson-image-file", labels.imageLabel, file),
    field("lesson-image-alt", labels.altLabel, alt),
    button,
    outcome,
  );
  body.parentElement.append(group);
  let cursor = null;
  body.addEventListener("blur", () => {
    cursor = [body.selectionStart, body.selectionEnd];
  });
  button.addEventListener("click", async () => {
    if (!file.files.length) {
      file.focus();
      return;
    }
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    data.append("upload", file.files[0]);
    data.append("alt", alt.value);
    button.disabled = true;
    outcome.textContent = labels.uploading;
    try {
      const response = await fetch(labels.uploadUrl, { method: "POST", body: data });
      const result = await response.json().catch(() => ({ errors: [labels.uploadFailed] }));
      if (!response.ok) {
        outcome.textContent = (result.errors || [labels.uploadFailed]).join(" ");
        return;
      }
      const editor = body.lessonEditor;
      const [start, end] = editor ? editor.selection() : cursor || [body.value.length, body.value.length];
      const before = start > 0 && body.value[start - 1] !== "\n" ? "\n\n" : "";
      if (editor) editor.replace(start, end, `${before}${result.markdown}\n`);
      else body.setRangeText(`${before}${result.markdown}\n`, start, end, "end");
      file.value = "";
      alt.value = "";
      outcome.textContent = labels.inserted;
      changed();
    } catch {
      outcome.textContent = labels.uploadFailed;
    } finally {
      button.disabled = false;
    }
  });
}

// The admin loads form scripts in the page's head, before the form exists.
document.addEventListener("DOMContentLoaded", () => {
  const config = document.getElementById("lesson-live-config");
  const body = document.getElementById("id_body");
  if (!config || !body || !window.fetch) return;
  const labels = config.dataset;
  const form = body.form;
  const fieldset = body.closest("fieldset");

  const pane = document.createElement("section");
  pane.className = "lesson-live lesson-preview";
  pane.setAttribute("aria-labelledby", "lesson-live-title");
  const title = document.createElement("h3");
  title.id = "lesson-live-title";
  title.textContent = labels.title;
  const status = document.createElement("p");
  status.className = "lesson-live-status";
  status.setAttribute("role", "status");
  const problems = document.createElement("ul");
  problems.className = "lesson-live-problems";
  const content = document.createElement("div");
  content.className = "lesson-preview-body prose";
  pane.append(title, status, problems, content);
  fieldset.append(pane);
  fieldset.classList.add("lesson-live-fieldset");

  // The code editor (admin-lesson-editor.js), when it is there, stands after the text box it replaces and says
  // how to leave it; the text box's own Tab handling (below) is said here.
  const shown = body.lessonEditor?.dom || body;
  if (!body.lessonEditor) {
    const hint = document.createElement("p");
    hint.className = "help";
    hint.id = "lesson-body-keys";
    hint.textContent = labels.keys;
    body.after(hint);
    body.setAttribute("aria-describedby", [body.getAttribute("aria-describedby"), hint.id].filter(Boolean).join(" "));
  }

  addImageUpload(body, labels, form, () => schedule());

  // A body over the limit is refused here, before the browser sends it: a post too large for the server
  // would end on an error page instead of this form.
  const tooLong = document.createElement("p");
  tooLong.className = "errornote";
  tooLong.setAttribute("role", "alert");
  tooLong.hidden = true;
  body.before(tooLong);
  if (shown !== body) body.before(shown);
  // The body's size in bytes as the server counts it, and what is said when it is over the limit (else "").
  const tooLongMessage = () => {
    const size = new Blob([body.value]).size;
    return size > Number(labels.maxBytes) ? labels.tooLong.replace("{size}", Math.round(size / 1024)) : "";
  };
  form.addEventListener("submit", (event) => {
    const message = tooLongMessage();
    if (!message) return;
    event.preventDefault();
    tooLong.textContent = message;
    tooLong.hidden = false;
    (body.lessonEditor || body).focus();
    // After the focus has scrolled to the cursor, which in a long body is far below the message.
    requestAnimationFrame(() => tooLong.scrollIntoView({ block: "center" }));
  });

  const names = ["course", "body", "exercise", "exercise_starter", "exercise_checks", "exercise_hints", "exercise_solution"];
  const fields = names.map((name) => form.elements[name]).filter(Boolean);
  let timer;
  let controller;
  let lastProblems = "";

  async function update() {
    const tooLarge = tooLongMessage();
    if (tooLarge) {
      // The server would refuse a post this large; the preview waits for a body it can take.
      controller?.abort();
      status.textContent = tooLarge;
      return;
    }
    controller?.abort();
    controller = new AbortController();
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    for (const field of fields) data.append(field.name, field.value);
    pane.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(labels.url, { method: "POST", body: data, signal: controller.signal });
      if (!response.ok) throw new Error(String(response.status));
      const result = await response.json();
      // The server's rendering of the author's own text: Markdown with raw HTML escaped, as on the lesson page.
      content.innerHTML = result.html || "";
      if (result.exercise_html) {
        const heading = document.createElement("h3");
        heading.textContent = labels.exercise;
        const exercise = document.createElement("div");
        exercise.innerHTML = result.exercise_html;
        content.append(heading, exercise);
      }
      problems.replaceChildren(
        ...(result.problems || []).map((problem) => {
          const item = document.createElement("li");
          item.className = problem.error ? "lesson-live-error" : "lesson-live-warning";
          item.textContent = `${problem.error ? labels.error : labels.warning} ${problem.text}`;
          return item;
        }),
      );
      // Said only when the problems change, so a screen reader is not told on every key.
      const found = result.problems || [];
      const errors = found.filter((problem) => problem.error).length;
      let summary = labels.none;
      if (errors) summary = labels.errors.replace("{count}", errors);
      else if (found.length) summary = labels.warnings.replace("{count}", found.length);
      if (summary !== lastProblems) status.textContent = summary;
      lastProblems = summary;
    } catch (error) {
      if (error.name !== "AbortError") status.textContent = labels.failed;
    } finally {
      pane.removeAttribute("aria-busy");
    }
  }

  const schedule = () => {
    clearTimeout(timer);
    timer = setTimeout(update, 400);
  };
  for (const field of fields) field.addEventListener(field.tagName === "SELECT" ? "change" : "input", schedule);
  update();

  // Tab indents (four spaces) as in a code editor; Escape, then Tab, leaves the box; Shift+Tab always leaves.
  let escaped = false;
  body.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      escaped = true;
      return;
    }
    if (event.key === "Tab" && !event.shiftKey && !event.altKey && !event.ctrlKey && !event.metaKey && !escaped) {
      event.preventDefault();
      body.setRangeText("    ", body.selectionStart, body.selectionEnd, "end");
      schedule();
    }
    escaped = false;
  });
});
