// Run, edit and check the Python of a lesson in the learner's browser (lesson pages only).
//
// Nothing of Python is fetched until a Run or Check is pressed: then static/js/python-worker.js starts
// Pyodide in a Web Worker, from this site's own static files, and later runs reuse it. Stop ends the
// worker (a program that never ends cannot freeze the page); the next run starts a fresh one. A
// browser without WebAssembly stack switching (JSPI, which asyncio.run and input() need) gets no Run
// or Check buttons: the code stays as it is, to read and copy.
"use strict";

const PYTHON_LANGUAGES = new Set(["python", "python3", "py"]);
// More output than this is cut (a loop that prints forever would fill the page's memory).
const MAX_OUTPUT = 200_000;
const EDIT_KEY = "stream.code";
const EXERCISE_KEY = "stream.exercise";

const config = document.getElementById("python-config");
const labels = config ? config.dataset : {};

function supported() {
  return typeof WebAssembly === "object" && typeof WebAssembly.Suspending === "function" && typeof Worker === "function";
}

// Stop takes Run's place and the focus: a double click or a repeated Enter on Run must not stop the
// program it just started, so Stop ignores presses this soon after it appeared.
const STOP_GRACE_MS = 500;

function armStop(stop) {
  stop.hidden = false;
  stop.dataset.shownAt = String(performance.now());
  stop.focus();
}

function stopPressedOnPurpose(stop) {
  return performance.now() - Number(stop.dataset.shownAt || 0) >= STOP_GRACE_MS;
}

function button(label, className) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  return element;
}

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null; // storage is off: edits last as long as the page
  }
}

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // Full or off: the edit stays on this page only.
  }
}

// The one Python of the page: a worker, started on demand, running one program at a time.
const python = {
  worker: null,
  ready: false,
  current: null, // the run in progress: {output, onDone}

  start(message, output) {
    this.stop(); // another block's program, if one runs
    if (!this.worker) {
      this.worker = new Worker(config.dataset.workerUrl, { type: "module" });
      this.worker.addEventListener("message", (event) => this.receive(event.data));
      this.worker.addEventListener("error", () => this.receive({ type: "done", ok: false, failed: true }));
    }
    output.status(this.ready ? labels.runningLabel : labels.loadingLabel, !this.ready);
    return new Promise((resolve) => {
      this.current = { output, resolve };
      this.worker.postMessage({
        ...message,
        indexURL: new URL(config.dataset.indexUrl, location.href).href,
        checksURL: new URL(config.dataset.checksUrl, location.href).href,
      });
    });
  },

  receive(message) {
    const run = this.current;
    if (!run) return;
    if (message.type === "ready") {
      this.ready = true;
      run.output.status(labels.runningLabel);
    } else if (message.type === "stdout" || message.type === "stderr") {
      run.output.write(message.text, message.type === "stderr");
    } else if (message.type === "input") {
      run.output.ask(message.prompt, (value) => this.worker.postMessage({ type: "answer", id: message.id, value }));
    } else if (message.type === "done") {
      this.current = null;
      if (message.failed) this.discard(); // Pyodide itself broke: the next run starts afresh
      run.output.finish(message.failed ? labels.failedLabel : message.ok ? labels.finishedLabel : labels.errorLabel);
      run.resolve(message);
    }
  },

  stop() {
    const run = this.current;
    if (!run) return;
    this.current = null;
    this.discard();
    run.output.finish(labels.stoppedLabel);
    run.resolve({ ok: false, stopped: true });
  },

  discard() {
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this.ready = false;
  },
};

// Where a run's output goes: a status line (announced) and the output itself (not announced line by
// line; it is focusable, so a screen reader can read it when it is done).
function makeOutput(container, name) {
  const status = document.createElement("p");
  status.className = "run-status";
  status.setAttribute("role", "status");
  const output = document.createElement("pre");
  output.className = "run-output";
  output.tabIndex = 0;
  output.setAttribute("aria-label", name);
  output.hidden = true;
  const question = document.createElement("form");
  question.className = "run-input";
  question.hidden = true;
  container.append(status, output, question);
  let pending = "";
  let written = 0;
  let scheduled = false;

  function flush() {
    scheduled = false;
    if (!pending) return;
    output.hidden = false;
    output.append(pending);
    pending = "";
    output.scrollTop = output.scrollHeight;
  }

  return {
    reset() {
      output.replaceChildren();
      output.hidden = true;
      question.hidden = true;
      pending = "";
      written = 0;
    },
    status(text, loading = false) {
      status.replaceChildren(text);
      if (loading) {
        const bar = document.createElement("progress");
        bar.setAttribute("aria-label", text);
        status.prepend(bar, " ");
      }
    },
    write(text, isError) {
      if (written >= MAX_OUTPUT) return;
      const room = MAX_OUTPUT - written;
      const piece = text.length > room ? `${text.slice(0, room)}\n${labels.truncatedLabel}\n` : text;
      written += text.length;
      if (isError) {
        flush();
        const span = document.createElement("span");
        span.className = "run-error";
        span.textContent = piece;
        output.hidden = false;
        output.append(span);
        return;
      }
      pending += piece;
      if (!scheduled) {
        scheduled = true;
        requestAnimationFrame(flush);
      }
    },
    ask(prompt, answer) {
      flush();
      const id = `${container.id}-input`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.className = "visually-hidden"; // the prompt is shown just above, in the output
      label.textContent = prompt.trim() || labels.inputLabel;
      const field = document.createElement("input");
      field.id = id;
      field.autocomplete = "off";
      field.spellcheck = false;
      const send = button(labels.sendLabel, "");
      send.type = "submit";
      question.replaceChildren(label, field, send);
      question.hidden = false;
      question.onsubmit = (event) => {
        event.preventDefault();
        question.hidden = true;
        answer(field.value);
      };
      this.status(labels.waitingLabel);
      field.focus();
    },
    finish(text) {
      flush();
      question.hidden = true;
      this.status(text);
    },
  };
}

// A Python code block: Run / Stop, Edit / Reset, and its output under it.
function enhanceBlock(block, number) {
  const caption = block.querySelector("figcaption");
  const highlighted = block.querySelector(".highlight");
  if (!caption || !highlighted) return;
  const original = highlighted.querySelector("pre").innerText.replace(/\n$/, "");
  const title = caption.querySelector(".code-title");
  const name = title ? title.textContent : `${labels.codeLabel} ${number}`;
  const key = `${EDIT_KEY}:${location.pathname}:${number}`;
  const run = button(labels.runLabel, "run-button");
  const stop = button(labels.stopLabel, "stop-button");
  const edit = button(labels.editLabel, "edit-button");
  const reset = button(labels.resetLabel, "reset-button");
  stop.hidden = true;
  reset.hidden = true;
  for (const control of [run, stop, edit, reset]) control.setAttribute("aria-describedby", `${block.id}-name`);
  const hiddenName = document.createElement("span");
  hiddenName.id = `${block.id}-name`;
  hiddenName.className = "visually-hidden";
  hiddenName.textContent = name;
  caption.append(hiddenName, run, stop, edit, reset);
  const results = document.createElement("div");
  results.className = "code-run";
  results.id = `${block.id}-run`;
  block.append(results);
  const output = makeOutput(results, `${labels.outputLabel}: ${name}`);

  let editor = null;
  function openEditor(code) {
    editor = document.createElement("textarea");
    editor.className = "code-editor";
    editor.spellcheck = false;
    editor.setAttribute("autocapitalize", "off");
    editor.setAttribute("aria-label", `${labels.editorLabel}: ${name}`);
    editor.value = code;
    editor.rows = Math.min(30, code.split("\n").length + 1);
    editor.addEventListener("input", () => store(key, editor.value === original ? null : editor.value));
    highlighted.hidden = true;
    highlighted.after(editor);
    edit.hidden = true;
    reset.hidden = false;
  }

  edit.addEventListener("click", () => {
    openEditor(original);
    editor.focus();
  });
  reset.addEventListener("click", () => {
    store(key, null);
    editor.remove();
    editor = null;
    highlighted.hidden = false;
    reset.hidden = true;
    edit.hidden = false;
    edit.focus();
  });
  run.addEventListener("click", async () => {
    output.reset();
    run.hidden = true;
    armStop(stop);
    await python.start({ type: "run", code: editor ? editor.value : original }, output);
    stop.hidden = true;
    run.hidden = false;
    if (document.activeElement === document.body || block.contains(document.activeElement)) run.focus();
  });
  stop.addEventListener("click", () => stopPressedOnPurpose(stop) && python.stop());

  const edited = stored(key);
  if (edited !== null) openEditor(edited);
}

// The exercise: its editor (a textarea in the page, which works without any of this), Check and Stop.
function enhanceExercise(workspace) {
  const editor = workspace.querySelector("textarea");
  const checks = JSON.parse(document.getElementById(workspace.dataset.checks).textContent);
  const actions = workspace.querySelector(".exercise-actions");
  const check = actions.querySelector("[data-action=check]");
  const stop = actions.querySelector("[data-action=stop]");
  const reset = actions.querySelector("[data-action=reset]");
  const list = workspace.querySelector(".check-results");
  const key = `${EXERCISE_KEY}:${workspace.dataset.lesson}`;
  const starter = editor.defaultValue;
  const output = makeOutput(workspace.querySelector(".code-run"), labels.exerciseOutputLabel);
  actions.hidden = false;
  workspace.querySelector(".exercise-unsupported").hidden = true;

  const edited = stored(key);
  if (edited !== null) editor.value = edited;
  editor.addEventListener("input", () => store(key, editor.value === starter ? null : editor.value));
  reset.addEventListener("click", () => {
    editor.value = starter;
    store(key, null);
    editor.focus();
  });
  stop.addEventListener("click", () => stopPressedOnPurpose(stop) && python.stop());
  check.addEventListener("click", async () => {
    output.reset();
    list.replaceChildren();
    list.hidden = true;
    check.hidden = true;
    armStop(stop);
    const done = await python.start({ type: "check", code: editor.value, checks }, output);
    stop.hidden = true;
    check.hidden = false;
    check.focus();
    if (!done.result) return;
    for (const item of done.result.checks) {
      const entry = document.createElement("li");
      entry.className = item.passed ? "check-passed" : "check-failed";
      const mark = document.createElement("span");
      mark.className = "check-mark";
      mark.textContent = item.passed ? "✓" : "✗";
      mark.setAttribute("aria-hidden", "true");
      const state = document.createElement("strong");
      state.textContent = `${item.passed ? labels.passedLabel : labels.failedCheckLabel}:`;
      const message = document.createElement("span");
      message.lang = workspace.dataset.contentLang; // the author's words, in the course's language
      message.textContent = item.message;
      entry.append(mark, " ", state, " ", message);
      if (item.detail) {
        const detail = document.createElement("pre");
        detail.textContent = item.detail;
        entry.append(detail);
      }
      list.append(entry);
    }
    list.hidden = false;
    const passed = done.result.checks.filter((item) => item.passed).length;
    output.status(
      done.ok ? labels.allPassedLabel : labels.somePassedLabel.replace("%(passed)s", passed).replace("%(total)s", done.result.checks.length),
    );
    // site.js records it: on the account (signed in) or in this browser, like a completion.
    if (done.ok) workspace.dispatchEvent(new CustomEvent("exercise-passed", { bubbles: true }));
  });
}

function enhance() {
  if (!config || !supported()) return;
  let number = 0;
  for (const block of document.querySelectorAll(".lesson-content figure.code-block")) {
    number += 1;
    if (!block.id) block.id = `code-${number}`;
    if (PYTHON_LANGUAGES.has(block.dataset.language)) enhanceBlock(block, number);
  }
  const workspace = document.querySelector(".exercise-workspace");
  if (workspace) enhanceExercise(workspace);
}

// After site.js has put its Copy buttons in the captions (on DOMContentLoaded, like this).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
else enhance();
