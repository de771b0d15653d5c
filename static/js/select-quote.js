/* Select words in a paragraph to quote them in a comment; on the version page, open
 * the one paragraph comment form under the paragraph instead of leaving the page.
 *
 * An enhancement only: without JavaScript the reader pastes the words into the
 * "Quoted words" field, and each paragraph's "Comment on paragraph N" link leads to
 * the paragraph's own page and its form. With it:
 * - on the version page, that link opens the page's single paragraph form (kept in
 *   <template id="paragraph-comment-form">) under the paragraph, for that paragraph;
 *   a second click closes it;
 * - when words are selected inside a paragraph's text, the quote field of that
 *   paragraph's comment form is filled with them (on the version page, the form is
 *   opened under the paragraph first). Which field: the one named by the nearest
 *   data-quote-input="<id>" around the paragraph, or else the quote field of a comment
 *   form inside the same paragraph. The server finds the quote again in the paragraph,
 *   also when white space differs.
 */
(function () {
  "use strict";

  function elementOf(node) {
    return node && node.nodeType === Node.ELEMENT_NODE ? node : node && node.parentElement;
  }

  function paragraphOf(node) {
    var el = elementOf(node);
    if (!el || el.closest("form, details, .para-meta, .num, .inline-comment")) return null;
    var body = el.closest(".para .body");
    return body ? body.closest(".para") : null;
  }

  var inline = null; // the version page's one paragraph form, once taken from its <template>

  /* Open the paragraph form under `link`'s paragraph (or close it when it is already
   * there and `toggle`); returns the form's quote field, or null when closed. */
  function openInline(link, toggle) {
    var tpl = document.getElementById("paragraph-comment-form");
    if (!tpl || !tpl.content) return null;
    var para = link.closest(".para");
    var id = (link.getAttribute("href").match(/\/paragraphs\/(\d+)/) || [])[1];
    if (!para || !id) return null;
    if (!inline) inline = tpl.content.firstElementChild.cloneNode(true);
    var form = inline.querySelector("form");
    var here = inline.parentNode && inline.closest(".para") === para;
    if (here && toggle) {
      inline.remove();
      link.setAttribute("aria-expanded", "false");
      link.focus();
      return null;
    }
    var opened = document.querySelector("a.comment-on[aria-expanded=true]");
    if (opened) opened.setAttribute("aria-expanded", "false");
    if (!here) {
      form.querySelector("input[name=quote]").value = "";
      var note = document.getElementById("quote-para-selected");
      if (note) note.remove();
    }
    form.setAttribute("data-paragraph", id);
    form.querySelector("input[name=paragraph]").value = id;
    inline.querySelector(".inline-comment-h").textContent = link.textContent;
    link.closest(".para-meta").insertAdjacentElement("afterend", inline);
    link.setAttribute("aria-expanded", "true");
    return form.querySelector("input[name=quote]");
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.comment-on");
    if (!link || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    if (!document.getElementById("paragraph-comment-form")) return;
    e.preventDefault();
    if (openInline(link, true)) {
      var first = inline.querySelector("select[name=kind]") || inline.querySelector("textarea");
      first.focus();
    }
  });

  function quoteFieldFor(para) {
    var holder = para.closest("[data-quote-input]");
    if (holder) return document.getElementById(holder.getAttribute("data-quote-input"));
    var field = para.querySelector("form.comment-form input[name=quote]");
    if (field) return field;
    var link = para.querySelector("a.comment-on");
    return link ? openInline(link, false) : null;
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

  var taken = null; // the selection last taken, not to be taken twice

  function takeSelection() {
    var sel = window.getSelection();
    if (!sel || sel.isCollapsed || sel.rangeCount === 0) return;
    var para = paragraphOf(sel.anchorNode);
    if (!para || paragraphOf(sel.focusNode) !== para) return;
    toWholeWords(sel);
    var text = sel.toString().replace(/\s+/g, " ").trim();
    if (!text) return;
    // The same selection again (a click on a link leaves it in place): taken already.
    var range = sel.getRangeAt(0);
    if (taken && taken.para === para && taken.text === text &&
        taken.range.compareBoundaryPoints(Range.START_TO_START, range) === 0 &&
        taken.range.compareBoundaryPoints(Range.END_TO_END, range) === 0) return;
    taken = {para: para, text: text, range: range.cloneRange()};
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
