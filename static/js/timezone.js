/* Tell the server the reader's time zone, so that pages add deadlines and times in
 * the reader's own time beside the document's zone (consult/web.py reader_zone).
 *
 * An enhancement only: without JavaScript, pages show the document's zone and UTC.
 * The browser's IANA zone name (e.g. "Asia/Yangon") goes into the `tz` cookie when
 * there is none yet, or when the browser has moved to another zone since; the server
 * ignores a name it does not know. An account's own zone wins over the cookie.
 */
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone || !/^[A-Za-z0-9_+\-\/]{1,64}$/.test(zone)) return;
  var found = document.cookie.match(/(?:^|;\s*)tz=([^;]*)/);
  if (found && found[1] === zone) return;
  document.cookie =
    "tz=" + zone + "; path=/; max-age=31536000; samesite=lax" +
    (location.protocol === "https:" ? "; secure" : "");
})();
