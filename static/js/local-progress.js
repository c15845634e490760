// A visitor's progress on the catalogue and the course pages. Signed out, static/js/site.js keeps the lessons
// completed in this browser (localStorage). These pages come from a shared cache, the same for every visitor:
// they carry hooks (lesson rows' ids, empty hidden bars, an empty "Continue" that knows where to ask for a
// course's lessons) and the words on this script's element. This writes in what a signed-in
// learner's page shows them: a ✓ beside each lesson completed, each course's bar, and "Continue: <lesson>" on
// the catalogue. Without it, or with nothing kept, none of it shows. A signed-in learner's page has none of this.

const LOCAL_PROGRESS_KEY = "stream.progress"; // site.js's key and format: { lessons: { <id>: { xp, course, at } } }

// The largest XP a lesson can be worth (the server's column), as site.js checks it.
const MAX_LESSON_XP = 2 ** 31 - 1;

// Lesson id → { course, at } for each completion site.js would read back (its readLocalProgress): anything else
// in storage is passed over the same way. `at` is when it was completed (ms), 0 for a record older than that.
function readCompletions() {
  const completions = new Map();
  let stored;
  try {
    stored = JSON.parse(localStorage.getItem(LOCAL_PROGRESS_KEY));
  } catch {
    return completions; // unreadable, or storage is off
  }
  const lessons = stored && stored.lessons;
  if (typeof lessons !== "object" || lessons === null || Array.isArray(lessons)) return completions;
  for (const [id, entry] of Object.entries(lessons)) {
    if (!/^[1-9][0-9]{0,14}$/.test(id) || typeof entry !== "object" || entry === null) continue;
    const xp = Number(entry.xp);
    const course = Number(entry.course);
    if (!Number.isInteger(xp) || xp < 0 || xp > MAX_LESSON_XP || !Number.isSafeInteger(course)) continue;
    const at = Number(entry.at);
    completions.set(Number(id), { course, at: Number.isSafeInteger(at) && at > 0 ? at : 0 });
  }
  return completions;
}

// The course of the visitor's latest completion (the later lesson when two were kept at the same moment).
function latestCourse(completions) {
  let latest = null;
  for (const [id, completion] of completions) {
    if (!latest || completion.at > latest.at || (completion.at === latest.at && id > latest.id)) {
      latest = { id, ...completion };
    }
  }
  return latest && latest.course;
}

// Where the visitor left off, as progress.selectors.next_lesson answers for a signed-in learner: the first
// published lesson, in course order, not completed in the course of the latest completion; none when that
// course is done or gone. Its outline comes from the server (courses.views.course_lessons), one course only.
async function nextLesson(outlineUrl, completions) {
  const courseId = latestCourse(completions);
  if (!courseId) return null;
  let course;
  try {
    const response = await fetch(outlineUrl.replace("/0/", `/${courseId}/`), { headers: { Accept: "application/json" } });
    if (!response.ok) return null; // a course since unpublished or deleted
    course = await response.json();
  } catch {
    return null; // offline: no "Continue" this time
  }
  const lesson = course.lessons.find((item) => !completions.has(item.id));
  return lesson ? { course, lesson } : null;
}

// A course's own text (a title) in the course's language, as the server marks it ({% content_lang %}).
function courseText(tag, text, course) {
  const element = document.createElement(tag);
  element.textContent = text;
  element.lang = course.lang;
  element.dir = course.dir;
  return element;
}

// The ✓ beside a lesson, as templates/courses/course_detail.html writes it for a signed-in learner.
function doneMark(label) {
  const mark = document.createElement("span");
  mark.className = "lesson-done";
  mark.dataset.local = "";
  const tick = document.createElement("span");
  tick.setAttribute("aria-hidden", "true");
  tick.textContent = "✓";
  const words = document.createElement("span");
  words.className = "visually-hidden";
  words.textContent = label;
  mark.append(tick, words);
  return mark;
}

function showMarks(completions, label) {
  for (const row of document.querySelectorAll("li[data-local-lesson]")) {
    row.querySelector(".lesson-done[data-local]")?.remove();
    if (completions.has(Number(row.dataset.localLesson))) row.querySelector("a").after(doneMark(label));
  }
}

// A course's bar, as templates/progress/course_progress.html writes it for a signed-in learner; its share is
// counted as the learner panel of a lesson page counts it (site.js): the lessons kept for the course, at most
// its published lessons. Shown on every course, as a learner's, once there is any progress at all.
function showBar(bar, completions) {
  const total = Number(bar.dataset.total) || 0;
  bar.hidden = !total || !completions.size;
  if (bar.hidden) return;
  const kept = [...completions.values()].filter((completion) => String(completion.course) === bar.dataset.localCourse);
  const done = Math.min(kept.length, total);
  const percent = Math.floor((100 * done) / total);
  const id = `course-${bar.dataset.localCourse}-progress`;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = bar.dataset.label.replaceAll("{done}", String(done)).replaceAll("{percent}", String(percent));
  const meter = document.createElement("progress");
  meter.id = id;
  meter.max = total;
  meter.value = done;
  meter.textContent = `${percent}%`;
  bar.replaceChildren(label, meter);
}

// "Continue: <lesson>", as templates/courses/catalogue.html writes it for a signed-in learner.
async function showContinue(box, completions, label) {
  const next = await nextLesson(box.dataset.outlineUrl, completions);
  box.hidden = !next;
  if (!next) {
    box.replaceChildren();
    return;
  }
  const link = document.createElement("a");
  link.className = "button";
  link.href = next.lesson.url;
  link.append(`${label} `, courseText("span", next.lesson.title, next.course));
  const course = courseText("span", next.course.title, next.course);
  course.className = "meta";
  box.replaceChildren(link, " ", course);
}

function showLocalProgress() {
  const labels = document.getElementById("local-progress-script").dataset;
  const completions = readCompletions();
  showMarks(completions, labels.completedLabel);
  for (const bar of document.querySelectorAll("[data-local-course]")) showBar(bar, completions);
  const box = document.getElementById("local-continue");
  if (box) showContinue(box, completions, labels.continueLabel);
}

showLocalProgress(); // a module runs once the page is parsed
// Again when the page comes back from the back-forward cache, or another tab changes what is kept.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) showLocalProgress();
});
window.addEventListener("storage", (event) => {
  if (event.key === LOCAL_PROGRESS_KEY || event.key === null) showLocalProgress();
});
