// The learner's code editor on lesson pages: CodeMirror over a text area, with Python highlighting, line
// numbers, auto-indent, bracket matching, Tab to indent (Escape, then Tab, leaves) and Ctrl/Cmd+Enter to
// run or check. static/js/python.js imports this module only when an editor is wanted (Edit pressed, or the
// exercise's text area, or a block's kept edit, used or in view); the text area stays in the page, hidden,
// and holds the code: every change is written back to it with an input event, so whatever reads it (Run,
// Check, Copy, what is kept in the browser) reads the learner's code.
//
// The page's Content-Security-Policy admits no <style> element without a nonce, and lesson pages are cached,
// so they carry none. The editor lives in a shadow root: CodeMirror adopts its styles there as constructed
// style sheets (no <style> element, which it would put in a document), and ours, a static file, are adopted
// the same way. The root's ids are its own, so the editor's name is given as aria-label, and the keyboard
// hint that describes it sits inside the root with it.
import { EditorState, Prec } from "../vendor/@codemirror/state/dist/index.js";
import {
  EditorView,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "../vendor/@codemirror/view/dist/index.js";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "../vendor/@codemirror/commands/dist/index.js";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "../vendor/@codemirror/language/dist/index.js";
import { pythonLanguage } from "../vendor/@codemirror/lang-python/dist/index.js";
import { tagHighlighter, tags } from "../vendor/@lezer/highlight/dist/index.js";

// Classes for the kinds of Python the site's highlighted blocks colour (Pygments' tokens, in
// static/css/code-editor.css), so the editor looks like the block it replaces, in light and dark.
const highlighter = tagHighlighter([
  // tags.modifier is async (and the * of *args).
  { tag: [tags.keyword, tags.modifier], class: "tok-keyword" },
  { tag: tags.operatorKeyword, class: "tok-operator-word" },
  { tag: [tags.bool, tags.null], class: "tok-constant" },
  { tag: [tags.string, tags.special(tags.string)], class: "tok-string" },
  { tag: tags.escape, class: "tok-escape" },
  { tag: tags.number, class: "tok-number" },
  { tag: tags.comment, class: "tok-comment" },
  { tag: tags.function(tags.definition(tags.variableName)), class: "tok-function" },
  { tag: tags.definition(tags.className), class: "tok-class" },
  { tag: tags.meta, class: "tok-decorator" },
  { tag: tags.operator, class: "tok-operator" },
]);

// Typed over a selection of several lines, the browser's own editing would carry the first line's
// highlighting along as a style attribute, which the Content-Security-Policy refuses (a console error), and
// text of several lines put in at once would be the browser's guess at lines: the editor puts both in itself,
// as it does a paste. Ordinary typing and input methods stay the browser's.
const replaceSelectionsOfLines = EditorView.domEventHandlers({
  beforeinput(event, view) {
    if (event.inputType !== "insertText" || !event.data || view.composing) return false;
    // What the browser would replace: the editor's own selection may not have caught up with the page's yet.
    const [target] = event.getTargetRanges();
    const { from, to } = target
      ? {
          from: view.posAtDOM(target.startContainer, target.startOffset),
          to: view.posAtDOM(target.endContainer, target.endOffset),
        }
      : view.state.selection.main;
    const doc = view.state.doc;
    if (doc.lineAt(from).number === doc.lineAt(to).number && !event.data.includes("\n")) return false;
    event.preventDefault();
    const insert = view.state.toText(event.data);
    view.dispatch({
      changes: { from, to, insert },
      selection: { anchor: from + insert.length },
      scrollIntoView: true,
      userEvent: "input.type",
    });
    return true;
  },
});

// Our styles, from code-editor.css, as one constructed style sheet that every editor's root adopts, as
// CodeMirror adopts its own (a <link> in the root would do for the browser, but not for axe-core, which copies
// such sheets into <style> elements that the policy then refuses).
let sheet = null;

function editorSheet(url) {
  sheet ??= fetch(url)
    .then((response) => (response.ok ? response.text() : ""))
    .catch(() => "") // unstyled beats no editor
    .then((text) => {
      const made = new CSSStyleSheet();
      made.replaceSync(text);
      return made;
    });
  return sheet;
}

/**
 * Puts an editor in the text area's place; returns {focus(), setCode(text), destroy()}.
 *
 * label: the editor's accessible name; hint: what the keys do, shown under it; stylesheetURL: code-editor.css;
 * onSubmit: what Ctrl/Cmd+Enter does (Run, or Check); className: the host's class ("exercise-editor" gives it
 * the exercise's size).
 */
export async function attach(textarea, { label, hint, stylesheetURL, onSubmit, className = "" }) {
  const host = document.createElement("div");
  host.className = `code-editor-host ${className}`.trim();
  const root = host.attachShadow({ mode: "open" });
  const frame = document.createElement("div");
  frame.className = "frame";
  const keys = document.createElement("p");
  keys.className = "keys";
  keys.id = "keys";
  keys.textContent = hint;
  root.adoptedStyleSheets = [await editorSheet(stylesheetURL)];
  root.append(frame, keys);
  if (!textarea.isConnected) return null;
  textarea.after(host);
  const hadFocus = document.activeElement === textarea;
  const { value, selectionStart, selectionEnd } = textarea;
  textarea.hidden = true;
  const view = new EditorView({
    root,
    parent: frame,
    state: EditorState.create({
      doc: value,
      selection: { anchor: Math.min(selectionStart, value.length), head: Math.min(selectionEnd, value.length) },
      extensions: [
        Prec.highest(keymap.of([{ key: "Mod-Enter", run: () => (onSubmit(), true) }])),
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        indentOnInput(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        bracketMatching(),
        pythonLanguage,
        syntaxHighlighting(highlighter),
        keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
        EditorView.contentAttributes.of({
          "aria-label": label,
          "aria-describedby": keys.id,
          tabindex: "0", // focusable as it is (contenteditable), but axe-core asks a scrolling region for it
          autocapitalize: "off",
          autocorrect: "off",
          spellcheck: "false",
          translate: "no",
        }),
        replaceSelectionsOfLines,
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  // The text area's label (the exercise's "Your solution") now names the editor: a click on it goes there.
  for (const name of textarea.labels || []) name.addEventListener("click", () => view.focus());
  if (hadFocus) view.focus();
  return {
    focus: () => view.focus(),
    setCode(text) {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, selection: { anchor: 0 } });
    },
    destroy() {
      view.destroy();
      host.remove();
    },
  };
}
