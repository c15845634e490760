// The lesson form's code editors: CodeMirror over the body (Markdown) and the exercise's starter and checks
// (Python), with line numbers, highlighting and soft wrap. Tab indents; Escape, then Tab, leaves the editor.
// Each editor writes its text back into its text box, which the form sends and the live preview
// (admin-lesson-preview.js) listens to. Without this module, or without ES modules, the text boxes work as
// they are.
import { EditorState } from "../vendor/@codemirror/state/dist/index.js";
import {
  EditorView,
  keymap,
  lineNumbers,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
} from "../vendor/@codemirror/view/dist/index.js";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "../vendor/@codemirror/commands/dist/index.js";
import { bracketMatching, indentOnInput, indentUnit, syntaxHighlighting } from "../vendor/@codemirror/language/dist/index.js";
import { highlightSelectionMatches, search, searchKeymap } from "../vendor/@codemirror/search/dist/index.js";
import { markdown } from "../vendor/@codemirror/lang-markdown/dist/index.js";
import { python } from "../vendor/@codemirror/lang-python/dist/index.js";
import { classHighlighter } from "../vendor/@lezer/highlight/dist/index.js";

const keysHint = document.getElementById("lesson-live-config")?.dataset.keys || "";
const LANGUAGES = {
  id_body: () => markdown(),
  id_exercise_starter: () => python(),
  id_exercise_checks: () => python(),
  id_exercise_hints: () => markdown(),
  id_exercise_solution: () => python(),
};

// The page's selection in the editor's text, as positions; null when it is not inside the editor.
function pageSelection(view) {
  const selection = document.getSelection();
  const inside = (node) => node && view.contentDOM.contains(node);
  if (!selection || !selection.rangeCount || !inside(selection.anchorNode) || !inside(selection.focusNode)) return null;
  const anchor = view.posAtDOM(selection.anchorNode, selection.anchorOffset);
  const head = view.posAtDOM(selection.focusNode, selection.focusOffset);
  return { from: Math.min(anchor, head), to: Math.max(anchor, head) };
}

function enhance(textarea, language) {
  const label = document.querySelector(`label[for="${textarea.id}"]`);
  if (label && !label.id) label.id = `${textarea.id}-label`;
  // How to leave by keyboard, said under each editor and to screen readers on entering it.
  const hint = document.createElement("p");
  hint.className = "help lesson-editor-keys";
  hint.id = `${textarea.id}-keys`;
  hint.textContent = keysHint;
  const described = [textarea.getAttribute("aria-describedby"), keysHint && hint.id].filter(Boolean).join(" ");
  const attributes = { lang: document.documentElement.lang, spellcheck: String(textarea.id === "id_body" || textarea.id === "id_exercise_hints") };
  if (label) attributes["aria-labelledby"] = label.id;
  if (described) attributes["aria-describedby"] = described;
  const classes = ["lesson-code-editor", `lesson-code-editor-${textarea.id.replace("id_", "")}`];
  if (textarea.closest(".errors")) classes.push("lesson-code-editor-invalid");
  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        indentOnInput(),
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        bracketMatching(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        search({ top: true }),
        syntaxHighlighting(classHighlighter),
        EditorView.lineWrapping,
        // Its styles go in a <style> element, which the page's Content-Security-Policy admits by this nonce.
        EditorView.cspNonce.of(document.getElementById("lesson-live-config")?.nonce || ""),
        keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
        language(),
        EditorView.contentAttributes.of(attributes),
        // The editor sets its own classes on each update: ours are given to it.
        EditorView.editorAttributes.of({ class: classes.join(" ") }),
        // Typed over a selection of several lines, the browser's own editing would carry the first line's
        // highlighting along as a style attribute, which the Content-Security-Policy refuses (a console error),
        // and text of several lines put in at once would be the browser's guess at lines: the editor puts both in
        // itself (as static/js/code-editor.js does for learners). Ordinary typing and input methods stay the
        // browser's.
        EditorView.domEventHandlers({
          beforeinput(event, view) {
            if (event.inputType !== "insertText" || !event.data || view.composing) return false;
            // What the browser would replace, the page's selection: on a busy machine the editor's own selection
            // may not have caught up with it yet.
            const { from, to } = pageSelection(view) || view.state.selection.main;
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
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  textarea.after(view.dom);
  if (keysHint) view.dom.after(hint);
  textarea.hidden = true;
  label?.addEventListener("click", () => view.focus());
  // What admin-lesson-preview.js uses to put an uploaded image's Markdown at the cursor, and to focus the text.
  textarea.lessonEditor = {
    dom: view.dom,
    focus: () => view.focus(),
    selection: () => [view.state.selection.main.from, view.state.selection.main.to],
    replace(from, to, text) {
      view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length } });
      view.focus();
    },
  };
}

for (const [id, language] of Object.entries(LANGUAGES)) {
  const textarea = document.getElementById(id);
  if (textarea instanceof HTMLTextAreaElement) enhance(textarea, language);
}
