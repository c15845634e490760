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
        // The learner's edit, when the block is being edited (static/js/python.js).
        const editor = block.querySelector("textarea.code-editor");
        await navigator.clipboard.writeText(editor ? editor.value : code.innerText.replace(/\n$/, ""));
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

// Progress. Signed out, completions are kept in this browser (localStorage) and the learner panel
// shows them; signed in, "Mark complete" posts without reloading the page, and whatever the browser
// kept while signed out is sent to the account once. The forms work without any of this.
const LOCAL_PROGRESS_KEY = "stream.progress";

// The largest XP a lesson can be worth (the server's column).
const MAX_LESSON_XP = 2 ** 31 - 1;

// Only what completeLocally and recordExercise write is read back: a lesson number for a key, and its
// XP (and, for a completion, its course and when) as whole numbers. Anything else in storage (edited by hand, or
// left by another script) is passed over.
function readLocalProgress() {
  const progress = { lessons: {}, exercises: {}, solutions: {} };
  let stored;
  try {
    stored = JSON.parse(localStorage.getItem(LOCAL_PROGRESS_KEY));
  } catch {
    return progress; // Unreadable (or storage is off): start afresh.
  }
  for (const kind of ["lessons", "exercises", "solutions"]) {
    const entries = stored && stored[kind];
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) continue;
    for (const [id, entry] of Object.entries(entries)) {
      if (!/^[1-9][0-9]{0,14}$/.test(id) || typeof entry !== "object" || entry === null) continue;
      if (kind === "solutions") {
        progress.solutions[id] = {}; // the reference solution was shown: a pass after it pays half
        continue;
      }
      const xp = Number(entry.xp);
      if (!Number.isInteger(xp) || xp < 0 || xp > MAX_LESSON_XP) continue;
      if (kind === "exercises") {
        progress.exercises[id] = { xp };
        continue;
      }
      const course = Number(entry.course);
      if (!Number.isSafeInteger(course)) continue;
      // When it was completed (ms), for the catalogue's "Continue" (static/js/local-progress.js).
      const at = Number(entry.at);
      progress.lessons[id] = Number.isSafeInteger(at) && at > 0 ? { xp, course, at } : { xp, course };
    }
  }
  return progress;
}

function writeLocalProgress(progress) {
  try {
    localStorage.setItem(LOCAL_PROGRESS_KEY, JSON.stringify(progress));
    return true;
  } catch {
    return false;
  }
}

function clearLocalProgress() {
  try {
    localStorage.removeItem(LOCAL_PROGRESS_KEY);
  } catch {
    // Storage is off: there is nothing to clear.
  }
}

function showMessages(texts, kind = "success") {
  const region = document.getElementById("messages");
  if (!region || !texts.length) return;
  let list = region.querySelector("ul");
  if (!list) {
    list = document.createElement("ul");
    region.append(list);
  }
  list.replaceChildren(...texts.map((text) => {
    const item = document.createElement("li");
    item.className = `message message-${kind}`;
    item.textContent = text;
    return item;
  }));
}

// What a press earned, shown beside the button that caused it (a region of the page's own, like
// #completion-result) and said by a screen reader: a region filled as it is inserted is not reliably announced,
// so the text also goes to a live region that was on the page before.
let resultAnnouncer;
function showResult(region, texts, kind = "success") {
  if (!region || !texts.length) return;
  region.replaceChildren(...texts.map((text) => {
    const line = document.createElement("p");
    line.className = `message message-${kind}`;
    line.textContent = text;
    return line;
  }));
  resultAnnouncer ||= createAnnouncer();
  resultAnnouncer.textContent = texts.join(" ");
  region.scrollIntoView({ block: "nearest" }); // below a button at the screen's bottom edge, it would go unseen
}

function setField(panel, name, value) {
  for (const element of panel.querySelectorAll(`[data-field="${name}"]`)) element.textContent = value;
}

// Places the browser's own completions on the panel a signed-out visitor sees.
function showLocalProgress(panel) {
  const ladderElement = document.getElementById("level-ladder");
  if (!ladderElement) return;
  const ladder = JSON.parse(ladderElement.textContent);
  const progress = readLocalProgress();
  const lessons = Object.values(progress.lessons);
  const xp = [...lessons, ...Object.values(progress.exercises)].reduce((sum, item) => sum + (Number(item.xp) || 0), 0);
  const reached = ladder.filter((level) => level.xp <= xp);
  const level = reached[reached.length - 1] || ladder[0];
  const next = ladder.find((level) => level.xp > xp);
  const inCourse = lessons.filter((lesson) => String(lesson.course) === panel.dataset.course).length;
  const courseTotal = Number(panel.dataset.courseTotal) || 0;
  const done = Math.min(inCourse, courseTotal);
  setField(panel, "level-number", level.number);
  setField(panel, "level-title", level.title);
  setField(panel, "xp", xp);
  setField(panel, "lessons-completed", Math.min(lessons.length, Number(panel.dataset.lessonsPublished) || 0));
  setField(panel, "course-percent", courseTotal ? Math.floor((100 * done) / courseTotal) : 0);
  const courseBar = panel.querySelector("#course-progress");
  courseBar.value = done;
  courseBar.textContent = `${courseTotal ? Math.floor((100 * done) / courseTotal) : 0}%`;
  panel.querySelector('[data-field="next-level"]').hidden = !next;
  panel.querySelector('[data-field="top-level"]').hidden = Boolean(next);
  if (next) {
    const span = next.xp - level.xp;
    setField(panel, "xp-into-level", xp - level.xp);
    setField(panel, "xp-for-level", span);
    setField(panel, "xp-to-go", next.xp - xp);
    const levelBar = panel.querySelector("#level-progress");
    levelBar.max = span;
    levelBar.value = xp - level.xp;
    levelBar.textContent = `${Math.floor((100 * (xp - level.xp)) / span)}%`;
  }
}

function showCompletionState(section, completed) {
  for (const form of section.querySelectorAll("form[data-completion]")) {
    form.hidden = (form.dataset.completion === "complete") === completed;
  }
}

function focusVisibleCompletionButton(section) {
  const button = section.querySelector("form[data-completion]:not([hidden]) button");
  if (button) button.focus();
}

// A visitor's course is complete when this browser holds every one of its published lessons.
function showCourseEnd(section) {
  const end = section.querySelector("#course-end");
  if (!end || document.getElementById("learner-panel")?.dataset.local !== "true") return;
  const lessons = Object.values(readLocalProgress().lessons);
  const done = lessons.filter((lesson) => String(lesson.course) === section.dataset.course).length;
  end.hidden = done < (Number(section.dataset.courseTotal) || Infinity);
}

function completeLocally(section, form, submitter) {
  const progress = readLocalProgress();
  const lesson = section.dataset.lesson;
  const completing = form.dataset.completion === "complete";
  if (completing) {
    progress.lessons[lesson] = { xp: Number(section.dataset.xp) || 0, course: Number(section.dataset.course), at: Date.now() };
  } else {
    delete progress.lessons[lesson];
  }
  if (!writeLocalProgress(progress)) {
    showResult(section.querySelector("#completion-result"), [document.body.dataset.progressFailedLabel], "error");
    return;
  }
  if (completing && submitter?.name === "continue" && section.dataset.nextUrl) {
    location.assign(section.dataset.nextUrl);
    return;
  }
  showCompletionState(section, completing);
  showLocalProgress(document.getElementById("learner-panel"));
  showCourseEnd(section);
  showResult(section.querySelector("#completion-result"), [completing ? section.dataset.doneLabel : section.dataset.undoneLabel]);
  focusVisibleCompletionButton(section);
}

async function completeOnServer(form, submitter) {
  const section = form.closest(".lesson-completion");
  const result = () => document.getElementById("completion-result");
  const button = submitter || form.querySelector("button");
  const body = new FormData(form, submitter); // before the button is disabled, which would leave it out
  button.disabled = true; // a double click posts once
  let answer;
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    answer = await response.json();
    if (!response.ok) {
      showResult(result(), [answer.error || document.body.dataset.progressFailedLabel], "error");
      button.disabled = false;
      return;
    }
  } catch {
    showResult(result(), [document.body.dataset.progressFailedLabel], "error");
    button.disabled = false;
    return;
  }
  if (answer.next_url) {
    location.assign(answer.next_url); // what was earned is said at the top of the next lesson
    return;
  }
  document.getElementById("learner-panel").outerHTML = answer.panel;
  section.outerHTML = answer.completion;
  const fresh = document.getElementById("lesson-completion");
  enhanceCompletion(fresh);
  focusVisibleCompletionButton(fresh);
  showResult(result(), answer.messages);
}

function enhanceCompletion(section) {
  const panel = document.getElementById("learner-panel");
  if (!section || !panel) return;
  const local = panel.dataset.local === "true";
  if (local) {
    showCompletionState(section, section.dataset.lesson in readLocalProgress().lessons);
    showCourseEnd(section);
  }
  for (const form of section.querySelectorAll("form[data-completion]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (local) completeLocally(section, form, event.submitter);
      else completeOnServer(form, event.submitter);
    });
  }
}

function csrfToken() {
  const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return field ? field.value : "";
}

// Signed in: hand the browser's signed-out completions to the account, once.
async function syncLocalProgress() {
  const url = document.body.dataset.syncUrl;
  const progress = readLocalProgress();
  const lessons = Object.keys(progress.lessons).map(Number).filter(Number.isInteger);
  const exercises = Object.keys(progress.exercises).map(Number).filter(Number.isInteger);
  const solutions = Object.keys(progress.solutions).map(Number).filter(Number.isInteger);
  if (!url) return;
  if (!lessons.length && !exercises.length && !solutions.length) {
    clearLocalProgress();
    return;
  }
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      body: JSON.stringify({ lessons, exercises, solutions }),
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
  } catch {
    return; // offline: try again on the next page
  }
  // Kept for another try when the server could not take it now (rate limit, an error on its side).
  if (response.status === 429 || response.status >= 500) return;
  const answer = await response.json().catch(() => ({}));
  clearLocalProgress();
  if (!response.ok) {
    if (answer.error) showMessages([answer.error], "error");
    return;
  }
  showMessages(answer.messages || []);
  if (answer.accepted && answer.accepted.length) await refreshProgressParts();
}

// An exercise whose checks all passed (static/js/python.js says so): its XP, once, on the account or,
// signed out, in this browser until the learner signs in.
async function recordExercise(workspace) {
  const panel = document.getElementById("learner-panel");
  const done = workspace.querySelector(".exercise-done");
  if (!panel || (done && !done.hidden)) return;
  if (panel.dataset.local === "true") {
    const progress = readLocalProgress();
    const xp = Number(workspace.dataset.xp) || 0;
    const seen = workspace.dataset.lesson in progress.solutions;
    // As the server pays (Lesson.exercise_xp_after_solution): half, rounded down, after the solution was shown.
    progress.exercises[workspace.dataset.lesson] = { xp: seen ? Math.floor(xp / 2) : xp };
    if (!writeLocalProgress(progress)) {
      showResult(exerciseResult(workspace), [document.body.dataset.progressFailedLabel], "error");
      return;
    }
    showLocalProgress(panel);
    if (done) done.hidden = false;
    showResult(exerciseResult(workspace), [seen ? workspace.dataset.passedAfterSolutionLabel : workspace.dataset.passedLabel]);
    return;
  }
  let answer;
  try {
    const response = await fetch(workspace.dataset.doneUrl, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      credentials: "same-origin",
    });
    answer = await response.json();
    if (!response.ok) {
      showResult(exerciseResult(workspace), [answer.error || document.body.dataset.progressFailedLabel], "error");
      return;
    }
  } catch {
    showResult(exerciseResult(workspace), [document.body.dataset.progressFailedLabel], "error");
    return;
  }
  panel.outerHTML = answer.panel;
  if (done) done.hidden = false;
  showResult(exerciseResult(workspace), answer.messages);
}

// Where an exercise's XP and rewards are said: just after its "done" line.
function exerciseResult(workspace) {
  let region = workspace.querySelector(".exercise-result");
  if (!region) {
    region = document.createElement("div");
    region.className = "exercise-result";
    (workspace.querySelector(".exercise-done") || workspace.lastElementChild).after(region);
  }
  return region;
}

function enhanceExercise() {
  const workspace = document.querySelector(".exercise-workspace");
  if (!workspace) return;
  const panel = document.getElementById("learner-panel");
  const done = workspace.querySelector(".exercise-done");
  if (panel && panel.dataset.local === "true" && done) {
    done.hidden = !(workspace.dataset.lesson in readLocalProgress().exercises);
  }
  workspace.addEventListener("exercise-passed", () => recordExercise(workspace));
  workspace.addEventListener("solution-shown", () => {
    if (!panel || panel.dataset.local !== "true") return; // the server recorded it
    const progress = readLocalProgress();
    progress.solutions[workspace.dataset.lesson] = {};
    writeLocalProgress(progress);
  });
}

// After a sync, the panel and the button on this page show the account's new state.
async function refreshProgressParts() {
  const panel = document.getElementById("learner-panel");
  if (!panel) return;
  try {
    const response = await fetch(location.href, { credentials: "same-origin" });
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const id of ["learner-panel", "lesson-completion"]) {
      const fresh = page.getElementById(id);
      const current = document.getElementById(id);
      if (fresh && current) current.replaceWith(document.adoptNode(fresh));
    }
    enhanceCompletion(document.getElementById("lesson-completion"));
  } catch {
    // The numbers on this page stay as they were until the next one.
  }
}

// Signing out empties what this browser keeps of the learner: progress, edited code and exercise drafts (every
// "stream." key), so the next person on a shared computer starts afresh. The sign-out's answer says the same
// to the browser (Clear-Site-Data), for a page without this script.
function clearLocalData() {
  try {
    for (const key of Object.keys(localStorage)) {
      if (key.startsWith("stream.")) localStorage.removeItem(key);
    }
  } catch {
    // Storage is off: there is nothing to clear.
  }
}

function clearProgressOnSignOut() {
  const logout = document.body.dataset.logoutUrl;
  if (!logout) return;
  for (const form of document.querySelectorAll("form")) {
    if (new URL(form.action, location.href).pathname === logout) form.addEventListener("submit", clearLocalData);
  }
}

function guessTimeZone() {
  for (const field of document.querySelectorAll("input[data-guess-time-zone]")) {
    try {
      field.value = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
    } catch {
      // The server keeps UTC.
    }
  }
}

function enhanceProgress() {
  const panel = document.getElementById("learner-panel");
  if (panel && panel.dataset.local === "true") showLocalProgress(panel);
  enhanceCompletion(document.getElementById("lesson-completion"));
  enhanceExercise();
  clearProgressOnSignOut();
  guessTimeZone();
  syncLocalProgress();
}

document.addEventListener("DOMContentLoaded", enhanceProgress);

// One clock. A signed-in reader's page is rendered in their account's time zone (data-time-zone); a visitor's
// is shared and in UTC, so each time is shown again in the browser's zone. "5 minutes ago" is worked out
// again, since a page may come from the cache; under a minute it is "just now".
function localizeTimes(root = document) {
  const zone = document.body.dataset.timeZone || undefined; // undefined: the browser's own
  const language = document.documentElement.lang || undefined;
  let absolute;
  let relative;
  try {
    absolute = new Intl.DateTimeFormat(language, { dateStyle: "medium", timeStyle: "short", timeZone: zone });
    relative = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
  } catch {
    return; // an old browser, or a zone it does not know: the server's text stays
  }
  const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const element of root.querySelectorAll("time[datetime]")) {
    // "+0900", as the pages write the offset, is "+09:00" for every browser's Date.
    const moment = new Date(element.dateTime.replace(/([+-]\d\d)(\d\d)$/, "$1:$2"));
    if (Number.isNaN(moment.getTime()) || !element.dateTime.includes("T")) continue;
    if (element.hasAttribute("data-relative")) {
      const seconds = (moment.getTime() - Date.now()) / 1000;
      const [unit, size] = units.find(([, length]) => Math.abs(seconds) >= length) || [];
      element.textContent = unit ? relative.format(Math.round(seconds / size), unit) : document.body.dataset.justNowLabel;
      element.title = absolute.format(moment);
    } else if (!document.body.dataset.timeZone) {
      element.textContent = absolute.format(moment);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => localizeTimes());

// Comments. The forms post and the page reloads without this; with it, they post in the
// background and the comments are redrawn in place, and every code block of the lesson gets a
// "comment on this code" control with its count.
function commentsSection() {
  return document.getElementById("comments");
}

function showFormError(form, text) {
  let alert = form.querySelector("[data-form-error]");
  if (!alert) {
    alert = document.createElement("p");
    alert.className = "message message-error";
    alert.setAttribute("role", "alert");
    alert.dataset.formError = "";
    form.prepend(alert);
  }
  alert.textContent = text;
}

async function previewComment(form) {
  const target = form.querySelector("[data-preview]");
  const response = await fetch(form.dataset.previewUrl, {
    method: "POST",
    body: new FormData(form),
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  const answer = await response.json();
  if (!response.ok) {
    showFormError(form, answer.error);
    return;
  }
  // The server's own sanitized rendering of the comment.
  target.innerHTML = answer.html;
  target.hidden = false;
}

// A form posted by the page's script, for JSON: whether the server said yes, and its answer (null when there was
// none to read: offline, or not JSON).
async function postForJson(form, extra = {}) {
  const body = new FormData(form);
  for (const [name, value] of Object.entries(extra)) body.append(name, value);
  try {
    const response = await fetch(form.action, {
      method: "POST",
      body,
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    return { ok: response.ok, answer: await response.json() };
  } catch {
    return { ok: false, answer: null };
  }
}

async function submitCommentForm(form, submitter) {
  if (submitter && submitter.name === "preview" && form.dataset.previewUrl) {
    await previewComment(form);
    return;
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const section = commentsSection();
  // Once the rest of the threads are loaded, a section drawn again holds them all.
  const { ok, answer } = await postForJson(form, section.dataset.threads === "all" ? { threads: "all" } : {});
  if (!ok) {
    showFormError(form, answer?.error || section.dataset.failedLabel);
    return;
  }
  if (answer.comment) {
    showPostedComment(section, form, answer);
    return;
  }
  const allThreads = section.dataset.threads === "all";
  section.outerHTML = answer.html;
  enhanceComments();
  if (allThreads) commentsSection().dataset.threads = "all";
  localizeTimes(commentsSection());
  const target = document.getElementById(answer.anchor);
  if (target) {
    if (target.tabIndex < 0) target.setAttribute("tabindex", "-1"); // a button (follow) keeps its place in the tab order
    target.focus();
  }
  // What the press did (following), beside its control in the redrawn section.
  if (answer.region) showResult(document.getElementById(answer.region), answer.messages || [], answer.kind);
}

// A comment just posted: the server sends its HTML alone, which goes under the comment it answers (or at the end
// of the list), with the section's new title and code block counts; the form is emptied for the next one.
function showPostedComment(section, form, answer) {
  let list;
  if (answer.holder) {
    const holder = document.getElementById(answer.holder);
    list = holder.querySelector(":scope > ol.comment-replies");
    if (!list) {
      list = document.createElement("ol");
      list.className = "comment-replies";
      holder.append(list);
    }
  } else {
    list = section.querySelector("ol.comment-list");
    if (!list) {
      list = document.createElement("ol");
      list.className = "comment-list";
      section.querySelector("p.empty")?.replaceWith(list);
    }
  }
  list.insertAdjacentHTML("beforeend", answer.comment);
  document.getElementById("comments-title").textContent = answer.title;
  document.getElementById("code-block-comments").textContent = JSON.stringify(answer.by_code_block);
  addCodeBlockControls(section);
  form.reset();
  form.querySelector("[data-form-error]")?.remove();
  const preview = form.querySelector("[data-preview]");
  if (preview) preview.hidden = true;
  const quote = form.querySelector("[data-code-quote]");
  if (quote) quote.hidden = true;
  if (form.elements.code_block) form.elements.code_block.value = "";
  if (form.elements.code_block_title) form.elements.code_block_title.value = "";
  form.elements.submission.value = answer.submission; // the next post from this form is a new comment
  const reply = form.closest("details.comment-reply");
  if (reply) reply.open = false;
  const posted = document.getElementById(answer.anchor);
  localizeTimes(posted);
  posted.setAttribute("tabindex", "-1");
  posted.focus();
}

// "Show N more threads": the rest of the threads, loaded into the list in place of the link (which, without the
// script, goes to a page of their own). A link to a comment among them loads them first.
async function loadMoreThreads(section) {
  const link = section.querySelector("a[data-comments-more]");
  if (!link) return false;
  let answer;
  try {
    const response = await fetch(link.href, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return false;
    answer = await response.json();
  } catch {
    return false;
  }
  const list = section.querySelector("ol.comment-list");
  const first = list.children.length;
  list.insertAdjacentHTML("beforeend", answer.html);
  link.closest("p").remove();
  section.dataset.threads = "all";
  localizeTimes(list);
  return list.children[first] || null;
}

async function showMoreThreads(section) {
  const firstLoaded = await loadMoreThreads(section);
  if (firstLoaded) {
    firstLoaded.setAttribute("tabindex", "-1");
    firstLoaded.focus();
  }
}

function openLinkedComment(section) {
  const wanted = /^#comment-\d+$/.test(window.location.hash) ? window.location.hash.slice(1) : "";
  if (wanted && !document.getElementById(wanted)) {
    loadMoreThreads(section).then(() => {
      const target = document.getElementById(wanted);
      if (!target) return;
      target.setAttribute("tabindex", "-1");
      target.focus();
      target.scrollIntoView();
    });
  }
}

// What became of a report or a flag, written into its region beside the control: a live region that was on the
// page before (see flagResult), so a screen reader says it, once; showResult is for a region that was just drawn.
function writeResult(region, texts, kind = "success") {
  region.replaceChildren(...texts.map((text) => {
    const line = document.createElement("p");
    line.className = `message message-${kind}`;
    line.textContent = text;
    return line;
  }));
}

// "Flag" opens its form under the comment instead of on a page of its own; what became of the flag is said
// beside the comment's actions (its own region, as the page says it after a post without the script). The
// region is put there, empty, when the form opens, so that it is a live region before anything is written in it.
function flagResult(comment) {
  const id = `${comment.id}-result`;
  let region = document.getElementById(id);
  if (!region) {
    region = document.createElement("div");
    region.id = id;
    region.className = "comment-result";
    region.setAttribute("role", "status");
    comment.querySelector(".comment-actions").append(region);
  }
  return region;
}

function openFlagForm(link) {
  const comment = link.closest("li.comment");
  const template = document.getElementById("flag-form-template");
  const actions = link.closest(".comment-actions");
  const open = actions.querySelector("form[data-flag-form]");
  if (open) {
    open.elements.reason.focus();
    return;
  }
  const form = template.content.firstElementChild.cloneNode(true);
  const fieldId = `${comment.id}-flag-reason`;
  form.action = link.href;
  form.querySelector("label").htmlFor = fieldId;
  form.elements.reason.id = fieldId;
  form.querySelector("[data-flag-cancel]").addEventListener("click", () => {
    form.remove();
    link.focus();
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    sendFlag(form, link);
  });
  flagResult(comment).before(form);
  form.elements.reason.focus();
}

async function sendFlag(form, link) {
  const comment = link.closest("li.comment");
  const failed = commentsSection().dataset.flagFailedLabel;
  const button = form.querySelector('button[type="submit"]');
  button.disabled = true; // a double click posts once
  const { ok, answer } = await postForJson(form);
  button.disabled = false;
  if (!ok) {
    writeResult(flagResult(comment), answer?.messages || [failed], "error");
    form.elements.reason.focus(); // the form stays, with what was typed
    return;
  }
  form.remove();
  link.focus();
  writeResult(flagResult(comment), answer.messages, answer.kind);
}

function addCodeBlockControls(section) {
  const counts = JSON.parse(document.getElementById("code-block-comments")?.textContent || "{}");
  const blocks = document.querySelectorAll(".lesson-content figure.code-block");
  blocks.forEach((block, index) => {
    const number = index + 1;
    block.id = `code-${number}`;
    block.querySelector(".code-comment-control")?.remove();
    const caption = block.querySelector("figcaption");
    if (!caption) return;
    const count = counts[number] || 0;
    const title = caption.querySelector(".code-title")?.textContent || `${section.dataset.codeFallbackTitle} ${number}`;
    const control = document.createElement(section.dataset.signInUrl ? "a" : "button");
    control.className = "code-comment-control";
    control.textContent = `💬 ${count ? `${count} ` : ""}`;
    const label = document.createElement("span");
    label.className = count ? "visually-hidden" : "";
    label.textContent = count ? `${section.dataset.codeCountLabel}: ${title}` : section.dataset.codeLabel;
    control.append(label);
    if (section.dataset.signInUrl) {
      control.href = section.dataset.signInUrl;
    } else {
      control.type = "button";
      control.addEventListener("click", () => {
        const form = document.getElementById("new-comment");
        if (!form) return;
        form.elements.code_block.value = number;
        form.elements.code_block_title.value = caption.querySelector(".code-title")?.textContent || "";
        const quote = form.querySelector("[data-code-quote]");
        quote.querySelector("[data-code-quote-title]").textContent = title;
        quote.hidden = false;
        form.elements.body.focus();
      });
    }
    caption.append(control);
  });
}

function enhanceComments() {
  const section = commentsSection();
  if (!section) return;
  section.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-comments-form]");
    if (!form) return;
    event.preventDefault();
    submitCommentForm(form, event.submitter);
  });
  section.addEventListener("click", (event) => {
    if (event.target.closest("a[data-comments-more]")) {
      event.preventDefault();
      showMoreThreads(section);
      return;
    }
    const link = event.target.closest("a.comment-flag");
    if (!link || !document.getElementById("flag-form-template")) return;
    event.preventDefault();
    openFlagForm(link);
  });
  addCodeBlockControls(section);
}

document.addEventListener("DOMContentLoaded", enhanceComments);
document.addEventListener("DOMContentLoaded", () => {
  const section = commentsSection();
  if (section) openLinkedComment(section);
});

// A problem report carries where the reader was: the text they had selected in the lesson (if
// any) and the section heading nearest before it, or else before the top of the screen when they
// opened the form.
function reportContext() {
  const content = document.querySelector(".lesson-content");
  const form = document.querySelector("form[data-report-form]");
  if (!content || !form) return;
  const headings = () => [...content.querySelectorAll("h2, h3")];
  const headingText = (heading) => (heading ? heading.textContent.replace(/#$/, "").trim() : "");
  let remembered = { section: "", selection: "" };

  document.addEventListener("selectionchange", () => {
    const selection = document.getSelection();
    const text = selection ? selection.toString().trim() : "";
    if (!text || !content.contains(selection.anchorNode)) return;
    const before = headings().filter(
      (heading) => heading.compareDocumentPosition(selection.anchorNode) & Node.DOCUMENT_POSITION_FOLLOWING,
    );
    remembered = { section: headingText(before[before.length - 1]), selection: text.slice(0, 500) };
  });

  const fill = () => {
    let { section, selection } = remembered;
    if (!section) {
      const above = headings().filter((heading) => heading.getBoundingClientRect().top < window.innerHeight / 3);
      section = headingText(above[above.length - 1]);
    }
    form.querySelector("[data-report-section]").value = section.slice(0, 200);
    form.querySelector("[data-report-selection]").value = selection;
  };
  form.closest("details")?.addEventListener("toggle", (event) => {
    if (event.target.open) fill();
  });
  form.addEventListener("submit", () => {
    if (!form.querySelector("[data-report-section]").value) fill();
  });
}

document.addEventListener("DOMContentLoaded", reportContext);

// A problem report is sent without leaving the page: the thanks, or why it was not sent, is said beside the
// report's form (#report-result, a live region), and the form keeps what was typed until it is sent. On the
// report's own page (no such region) the form posts as it is.
function sendReportsInPlace() {
  const form = document.querySelector("form[data-report-form]");
  const region = document.getElementById("report-result");
  if (!form || !region) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = event.submitter || form.querySelector('button[type="submit"]');
    button.disabled = true; // a double click sends once
    // Read once the button is disabled, after reportContext has filled in where the reader was.
    const { ok, answer } = await postForJson(form);
    button.disabled = false;
    if (!ok) {
      if (answer?.form) {
        // The server's form, its fields marked and holding what was sent, in place of this one's fields.
        const fresh = document.createElement("template");
        fresh.innerHTML = answer.form;
        const marked = fresh.content.querySelector("form");
        if (marked) form.replaceChildren(...marked.childNodes);
      }
      writeResult(region, answer?.messages || [region.dataset.failedLabel], "error");
      const invalid = form.querySelector('[aria-describedby*="-errors"]');
      const field = invalid && invalid.matches("fieldset") ? invalid.querySelector("input") : invalid;
      (field || form.querySelector('button[type="submit"]')).focus();
      return;
    }
    form.reset();
    const details = form.closest("details");
    if (details) {
      details.open = false;
      details.querySelector("summary").focus(); // the report's control, the thanks just after it
    }
    writeResult(region, answer.messages, answer.kind);
  });
}

document.addEventListener("DOMContentLoaded", sendReportsInPlace);
