// Run, edit and check the Python of a lesson in the learner's browser (lesson pages only).
//
// A plain page view fetches nothing of Python and nothing of the editor. Python starts when the learner shows
// they mean to run something (a pointer on, or the focus in, a Run or Edit button or the exercise), so that it
// is often ready by the time Run or Check is pressed; static/js/python-worker.js runs it, with Pyodide, in a
// Web Worker, from this site's own static files, and later runs reuse it. The status line says what is
// happening: loading (fetching and compiling), starting (Python's own start), running. Stop ends the worker
// (a program that never ends cannot freeze the page); the next run starts a fresh one.
//
// The code editor (static/js/code-editor.js, CodeMirror) is imported when one is wanted: Edit pressed, or a
// text area of code (the exercise's, a block's kept edit) used or scrolled into view. It takes the place of
// the text area, which keeps the code and works on its own without it.
//
// A browser without WebAssembly stack switching (JSPI, which asyncio.run and input() need) gets no Run or
// Check buttons: the code stays as it is, to read and copy.
"use strict";

const PYTHON_LANGUAGES = new Set(["python", "python3", "py"]);
// More output than this is cut (a loop that prints forever would fill the page's memory).
const MAX_OUTPUT = 200_000;
const EDIT_KEY = "stream.code";
const EXERCISE_KEY = "stream.exercise";
// Failed presses of Check, per exercise: the reference solution is offered after a few.
const FAILS_KEY = "stream.exercise-fails";

const config = document.getElementById("python-config");
const labels = config ? config.dataset : {};

function supported() {
  return typeof WebAssembly === "object" && typeof WebAssembly.Suspending === "function" && typeof Worker === "function";
}

// Stop takes Run's place and, unless the run was started from the editor (Ctrl+Enter, where the learner
// goes on typing), the focus: a double click or a repeated Enter on Run must not stop the program it just
// started, so Stop ignores presses this soon after it appeared.
const STOP_GRACE_MS = 500;

function armStop(stop, focus) {
  stop.hidden = false;
  stop.dataset.shownAt = String(performance.now());
  if (focus) stop.focus();
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
  phase: null, // "loading" | "starting" | "ready", while there is a worker
  current: null, // the run in progress: {output, resolve}

  urls() {
    return {
      indexURL: new URL(config.dataset.indexUrl, location.href).href,
      checksURL: new URL(config.dataset.checksUrl, location.href).href,
    };
  },

  // Starts Python ahead of a run, when the learner shows they mean to run something.
  warm() {
    if (this.worker) return;
    this.worker = new Worker(config.dataset.workerUrl, { type: "module" });
    this.phase = "loading";
    this.worker.addEventListener("message", (event) => this.receive(event.data));
    // The worker itself failed (its script did not load, say): the run under way says so, and the next one
    // starts another worker.
    this.worker.addEventListener("error", () =>
      this.current ? this.receive({ type: "done", ok: false, failed: true }) : this.discard(),
    );
    this.worker.postMessage({ type: "load", ...this.urls() });
  },

  start(message, output) {
    this.stop(); // another block's program, if one runs
    this.warm();
    return new Promise((resolve) => {
      this.current = { output, resolve };
      this.showPhase();
      this.worker.postMessage({ ...message, ...this.urls() });
    });
  },

  showPhase() {
    const run = this.current;
    if (!run) return;
    if (this.phase === "ready") run.output.status(labels.runningLabel);
    else run.output.status(this.phase === "starting" ? labels.startingLabel : labels.loadingLabel, true);
  },

  receive(message) {
    if (message.type === "phase" || message.type === "ready") {
      this.phase = message.type === "ready" ? "ready" : message.phase;
      this.showPhase();
      return;
    }
    if (message.type === "failed") {
      // Python did not start ahead of a run: the run under way, if any, is told by its own "done".
      if (!this.current) this.discard();
      return;
    }
    const run = this.current;
    if (!run) return;
    if (message.type === "stdout" || message.type === "stderr") {
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
    this.phase = null;
  },
};

// A press on, or the focus in, the element starts Python (once per worker); with hover, a pointer over it too.
function warmOnIntent(element, { hover }) {
  const warm = () => python.warm();
  if (hover) element.addEventListener("pointerenter", warm);
  element.addEventListener("pointerdown", warm);
  element.addEventListener("focusin", warm);
}

// The code editor (static/js/code-editor.js), imported the first time one is wanted.
let editorModule = null;

function loadEditor() {
  editorModule ??= import(config.dataset.editorUrl).catch(() => {
    editorModule = null; // offline, say: the text area stays, and the next try imports again
    return null;
  });
  return editorModule;
}

// The editors put over text areas, by text area: {focus(), setCode(text), destroy()}, or a promise of one.
const editors = new WeakMap();

function upgrade(textarea, options) {
  if (editors.has(textarea)) return;
  const attaching = loadEditor().then(async (module) => {
    const settings = { stylesheetURL: config.dataset.editorCssUrl, ...options };
    const editor = module && textarea.isConnected ? await module.attach(textarea, settings) : null;
    if (editor) editors.set(textarea, editor);
    else editors.delete(textarea); // the next Edit, say, tries again
    return editor;
  });
  editors.set(textarea, attaching);
}

// Upgrades the text area once it is used (a pointer on it, or the focus) or comes into view.
function upgradeWhenWanted(textarea, options) {
  const want = () => {
    observer.disconnect();
    textarea.removeEventListener("pointerdown", want);
    textarea.removeEventListener("focus", want);
    upgrade(textarea, options);
  };
  const observer = new IntersectionObserver((entries) => entries.some((entry) => entry.isIntersecting) && want(), {
    rootMargin: "200px 0px",
  });
  observer.observe(textarea);
  textarea.addEventListener("pointerdown", want);
  textarea.addEventListener("focus", want);
}

// The code in a text area, and in its editor when it has one.
function setCode(textarea, text) {
  textarea.value = text;
  const editor = editors.get(textarea);
  if (editor && !(editor instanceof Promise)) editor.setCode(text);
}

function focusCode(textarea) {
  const editor = editors.get(textarea);
  if (editor && !(editor instanceof Promise)) editor.focus();
  else textarea.focus();
}

// Whether the focus is in this text area's editor (inside its shadow root, so the page sees its host).
function editing(textarea) {
  const focused = document.activeElement;
  if (focused === textarea) return true;
  return Boolean(focused?.classList.contains("code-editor-host") && focused.previousElementSibling === textarea);
}

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

  let editor = null; // the text area that holds the edited code, while the block is edited
  const editorOptions = {
    label: `${labels.editorLabel}: ${name}`,
    hint: labels.runKeysLabel,
    onSubmit: () => startRun(),
  };
  function openEditor(code) {
    editor = document.createElement("textarea");
    editor.className = "code-editor";
    editor.spellcheck = false;
    editor.setAttribute("autocapitalize", "off");
    editor.setAttribute("aria-label", editorOptions.label);
    editor.value = code;
    editor.rows = Math.min(30, code.split("\n").length + 1);
    editor.addEventListener("input", () => store(key, editor.value === original ? null : editor.value));
    highlighted.hidden = true;
    highlighted.after(editor);
    edit.hidden = true;
    reset.hidden = false;
  }

  for (const control of [run, edit]) warmOnIntent(control, { hover: true });
  edit.addEventListener("click", () => {
    openEditor(original);
    editor.focus(); // the text area until the editor is there, which then takes the focus
    upgrade(editor, editorOptions);
  });
  reset.addEventListener("click", () => {
    store(key, null);
    Promise.resolve(editors.get(editor)).then((attached) => attached?.destroy());
    editor.remove();
    editor = null;
    highlighted.hidden = false;
    reset.hidden = true;
    edit.hidden = false;
    edit.focus();
  });
  async function startRun() {
    if (run.hidden) return; // already running: Stop is the way to end it
    const fromEditor = editor !== null && editing(editor);
    output.reset();
    run.hidden = true;
    armStop(stop, !fromEditor);
    await python.start({ type: "run", code: editor ? editor.value : original }, output);
    stop.hidden = true;
    run.hidden = false;
    // Run's place again: the focus goes back to it, unless the learner is typing in the editor.
    const focused = document.activeElement;
    if ((focused === document.body || block.contains(focused)) && !(editor && editing(editor))) run.focus();
  }
  run.addEventListener("click", startRun);
  stop.addEventListener("click", () => stopPressedOnPurpose(stop) && python.stop());

  const edited = stored(key);
  if (edited !== null) {
    openEditor(edited);
    upgradeWhenWanted(editor, editorOptions);
  }
}

// The exercise: its editor (a text area in the page, which works without any of this), Check and Stop.
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
  warmOnIntent(check, { hover: true });
  warmOnIntent(workspace, { hover: false }); // its editor, Check or Reset pressed or focused
  upgradeWhenWanted(editor, {
    label: document.querySelector(`label[for="${editor.id}"]`)?.textContent.trim() || labels.editorLabel,
    hint: labels.checkKeysLabel,
    className: "exercise-editor",
    onSubmit: () => !check.hidden && check.click(),
  });
  reset.addEventListener("click", () => {
    setCode(editor, starter);
    store(key, null);
    focusCode(editor);
  });
  stop.addEventListener("click", () => stopPressedOnPurpose(stop) && python.stop());
  check.addEventListener("click", async () => {
    const fromEditor = editing(editor);
    output.reset();
    list.replaceChildren();
    list.hidden = true;
    check.hidden = true;
    armStop(stop, !fromEditor);
    const done = await python.start({ type: "check", code: editor.value, checks }, output);
    stop.hidden = true;
    check.hidden = false;
    if (!editing(editor)) check.focus();
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
      if (item.compared) entry.append(comparison(item.compared));
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
    else countFailure(workspace);
  });
}

// A failed check that compared two values: what the check expected and what the learner's code gave.
function comparison(compared) {
  const list = document.createElement("dl");
  list.className = "check-compared";
  const pairs =
    compared.op === "=="
      ? [
          [labels.expectedLabel, compared.expected],
          [labels.actualLabel, compared.actual],
        ]
      : [[labels.comparedLabel, `${compared.actual} ${compared.op} ${compared.expected}`]];
  for (const [term, value] of pairs) {
    const name = document.createElement("dt");
    name.textContent = term;
    const code = document.createElement("code");
    code.textContent = value;
    const description = document.createElement("dd");
    description.append(code);
    list.append(name, description);
  }
  return list;
}

function countFailure(workspace) {
  const key = `${FAILS_KEY}:${workspace.dataset.lesson}`;
  const fails = (Number(stored(key)) || 0) + 1;
  store(key, String(fails));
  offerSolution(fails >= Number(document.getElementById("exercise-solution")?.dataset.failsNeeded || Infinity));
}

// The reference solution: offered after enough failed checks (what a pass then pays is said beside the
// button) or once the exercise is passed, to compare; fetched from the server when asked for, which records
// that a signed-in learner saw it (a visitor's browser keeps that itself: site.js, "solution-shown").
function offerSolution(failed) {
  const section = document.getElementById("exercise-solution");
  const passed = document.querySelector(".exercise-workspace .exercise-done:not([hidden])");
  if (!section || !(failed || passed)) return;
  for (const offer of section.querySelectorAll(".solution-offer")) {
    offer.hidden = (offer.dataset.when === "passed") !== Boolean(passed);
  }
  section.hidden = false;
}

function enhanceSolution(workspace) {
  const section = document.getElementById("exercise-solution");
  if (!section) return;
  const form = section.querySelector("form");
  const code = section.querySelector(".exercise-solution-code");
  const fails = Number(stored(`${FAILS_KEY}:${workspace.dataset.lesson}`)) || 0;
  offerSolution(fails >= Number(section.dataset.failsNeeded));
  // A pass shows the exercise's "done" line (site.js, once it is recorded): then the solution is there to compare.
  const done = workspace.querySelector(".exercise-done");
  if (done) new MutationObserver(() => offerSolution(false)).observe(done, { attributeFilter: ["hidden"] });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const submit = form.querySelector("button");
    submit.disabled = true;
    let answer;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error(String(response.status));
      answer = await response.json();
    } catch {
      form.submit(); // the solution's own page says what went wrong, or shows it
      return;
    }
    code.innerHTML = answer.html; // the site's own HTML, rendered from the lesson when it was saved
    code.hidden = false;
    form.hidden = true;
    section.querySelector("h3").focus();
    workspace.dispatchEvent(new CustomEvent("solution-shown", { bubbles: true }));
  });
}

// Hints open one at a time: the next appears once the one before it has been opened. Without this script
// every hint is a closed <details> of its own.
function enhanceHints() {
  const hints = [...document.querySelectorAll("#exercise-hints .exercise-hint")];
  hints.forEach((hint, index) => {
    hint.hidden = index > 0 && !hints[index - 1].open;
    hint.addEventListener("toggle", () => {
      if (hint.open && hints[index + 1]) hints[index + 1].hidden = false;
    });
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
  if (workspace) {
    enhanceExercise(workspace);
    enhanceSolution(workspace);
  }
}

enhanceHints(); // hints need no Python: every browser gets them one at a time

// After site.js has put its Copy buttons in the captions (on DOMContentLoaded, like this).
if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", enhance);
else enhance();
