// The code/text editor for practical answers: CodeMirror 6 from npm (versions pinned in
// package-lock.json), bundled by build.mjs into static/vendor/editor.min.js as window.ExamEditor.
//
//   const ed = ExamEditor.create(parentElement, {
//     doc: "<p>你好</p>",          // initial text
//     language: "html",            // "html" | "css" | "javascript" | "text"
//     onChange: (text) => {...},   // called after every edit by the candidate
//     readOnly: false,
//     label: "答案编辑器",          // optional accessible name (aria-label)
//   });
//   ed.getValue(); ed.setValue(text); ed.focus(); ed.destroy();
//
// Keyboard: Tab is NOT trapped. We use CodeMirror's basic setup, whose keymap is the default
// keymap without `indentWithTab`, so Tab and Shift-Tab move focus out of the editor to the next and
// previous control like in any text field (WCAG 2.1.2, no keyboard trap). To indent inside the
// editor use Ctrl-] / Ctrl-[ (Cmd on macOS), which indent or dedent the selected lines.
// One exception, CodeMirror's own: after accepting a snippet completion (e.g. "for" in JavaScript)
// Tab jumps between the snippet's fields; Escape ends the snippet, and Tab leaves again. Ctrl-M
// (Shift-Alt-M on macOS) toggles CodeMirror's tab-focus mode, in which Tab always moves focus, and
// pressing Escape and then Tab within two seconds always moves focus too (CodeMirror's documented
// way out of any Tab binding).
import { EditorView, basicSetup } from "codemirror";
import { EditorState, Annotation } from "@codemirror/state";
import { html } from "@codemirror/lang-html";
import { css } from "@codemirror/lang-css";
import { javascript } from "@codemirror/lang-javascript";

const LANGUAGES = {
  html: () => html(),
  css: () => css(),
  javascript: () => javascript(),
  text: () => [],
};

// Marks changes made by setValue so they do not echo back through onChange.
const programmatic = Annotation.define();

function create(parent, options = {}) {
  const { doc = "", language = "text", onChange = null, readOnly = false, label = null } = options;
  const languageSupport = LANGUAGES[language];
  if (!languageSupport) {
    throw new Error(`ExamEditor: unknown language ${JSON.stringify(language)}`);
  }
  const extensions = [
    basicSetup, // line numbers, bracket matching, history, search, default keymap (no Tab trap)
    languageSupport(),
    EditorState.readOnly.of(Boolean(readOnly)),
    EditorView.contentAttributes.of(label ? { "aria-label": String(label) } : {}),
  ];
  if (typeof onChange === "function") {
    extensions.push(
      EditorView.updateListener.of((update) => {
        if (!update.docChanged) return;
        if (update.transactions.some((tr) => tr.annotation(programmatic))) return;
        onChange(update.state.doc.toString());
      }),
    );
  }
  const view = new EditorView({
    parent,
    state: EditorState.create({ doc: String(doc), extensions }),
  });
  return {
    view,
    getValue() {
      return view.state.doc.toString();
    },
    // Replaces the whole text (e.g. a draft restored from the server); does not call onChange.
    setValue(text) {
      view.dispatch({
        changes: { from: 0, to: view.state.doc.length, insert: String(text) },
        annotations: programmatic.of(true),
      });
    },
    focus() {
      view.focus();
    },
    destroy() {
      view.destroy();
    },
  };
}

window.ExamEditor = { create };
