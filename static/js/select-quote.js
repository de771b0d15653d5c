/* Select words in a paragraph to quote them in a comment.
 *
 * An enhancement only: without JavaScript the reader pastes the words into the
 * "Quoted words" field. When words are selected inside a paragraph's text, the
 * quote field of that paragraph's comment form is filled with them (and the
 * form's <details> opened). Which field: the one named by the nearest
 * data-quote-input="<id>" around the paragraph, or else the quote field of a
 * comment form inside the same paragraph (the version page). The server finds
 * the quote again in the paragraph, also when white space differs.
 */
(function () {
  "use strict";

  function elementOf(node) {
    return node && node.nodeType === Node.ELEMENT_NODE ? node : node && node.parentElement;
  }

  function paragraphOf(node) {
    var el = elementOf(node);
    if (!el || el.closest("form, details, .para-meta, .num")) return null;
    var body = el.closest(".para .body");
    return body ? body.closest(".para") : null;
  }

  function quoteFieldFor(para) {
    var holder = para.closest("[data-quote-input]");
    if (holder) return document.getElementById(holder.getAttribute("data-quote-input"));
    return para.querySelector("form.comment-form input[name=quote]");
  }

  function announce(field, words) {
    var id = field.id + "-selected";
    var note = document.getElementById(id);
    if (!note) {
      note = document.createElement("span");
      note.id = id;
      note.className = "hint quote-note";
      note.setAttribute("aria-live", "polite");
      field.insertAdjacentElement("afterend", note);
    }
    note.textContent = "Filled from your selection (" + words + " word" + (words === 1 ? "" : "s") + ").";
  }

  var WORD = /[\p{L}\p{N}]/u;

  /* A quote is whole words: a selection that starts or ends inside a word grows to it. */
  function toWholeWords(sel) {
    var range = sel.getRangeAt(0).cloneRange();
    var start = range.startContainer, end = range.endContainer;
    if (start.nodeType === Node.TEXT_NODE) {
      var t = start.textContent, i = range.startOffset;
      while (i > 0 && WORD.test(t[i - 1]) && WORD.test(t[i] || "")) i--;
      range.setStart(start, i);
    }
    if (end.nodeType === Node.TEXT_NODE) {
      var u = end.textContent, j = range.endOffset;
      while (j < u.length && WORD.test(u[j]) && WORD.test(u[j - 1] || "")) j++;
      range.setEnd(end, j);
    }
    sel.removeAllRanges();
    sel.addRange(range);
  }

  function takeSelection() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    var para = paragraphOf(sel.anchorNode);
    if (!para || paragraphOf(sel.focusNode) !== para) return;
    toWholeWords(sel);
    var text = sel.toString().replace(/\s+/g, " ").trim();
    if (!text) return;
    var field = quoteFieldFor(para);
    if (!field) return;
    field.value = text;
    var details = field.closest("details");
    if (details && !details.open) details.open = true;
    announce(field, text.split(" ").length);
  }

  document.addEventListener("mouseup", function () { window.setTimeout(takeSelection, 0); });
  document.addEventListener("keyup", function (e) {
    if (e.shiftKey || e.key === "Shift") takeSelection();
  });
  document.addEventListener("touchend", function () { window.setTimeout(takeSelection, 0); });
})();
