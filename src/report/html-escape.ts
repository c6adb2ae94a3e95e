/**
 * Escaping for the HTML renderers. Everything a server or a user sent (error messages, model names,
 * scenario values, URLs) is untrusted: it goes into the page only through these functions, or through
 * the inlined JSON block read by the page's script and set with textContent.
 */

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for an HTML text node or a quoted attribute value. */
export function escapeHtml(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/**
 * JSON safe to inline in `<script type="application/json">`: `<`, `>`, `&` and U+2028/U+2029 become
 * `\uXXXX` escapes, so no server text can close the tag or open a comment (`<!--`), and the result is
 * still valid JSON that `JSON.parse(el.textContent)` reads back unchanged.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => {
    return '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0');
  });
}
