// Highlighting with the bundled highlight.js, loaded only when a paste has
// a language: the core and the language files the server named (a
// language and those it embeds, such as CSS and JavaScript in HTML).

const VENDOR = "/static/vendor/hljs/";

// Pastes longer than this are shown without highlighting: highlight.js
// would keep the page busy for seconds.
export const MAX_HIGHLIGHT = 512 * 1024;

// highlight returns the text as HTML: highlighted in language (a
// highlight.js name) when it is set and the text is not too long, escaped
// plain text otherwise. files are the language files to load.
export async function highlight(text, language, files) {
  if (!language || text.length > MAX_HIGHLIGHT) return escapeHTML(text);
  try {
    const { default: hljs } = await import(VENDOR + "core.min.js");
    hljs.configure({ ignoreUnescapedHTML: true });
    for (const name of files) {
      if (hljs.getLanguage(name)) continue;
      const mod = await import(VENDOR + "languages/" + encodeURIComponent(name) + ".min.js");
      hljs.registerLanguage(name, mod.default);
    }
    return hljs.highlight(text, { language, ignoreIllegals: true }).value;
  } catch (err) {
    console.warn("pasteur: no highlighting:", err);
    return escapeHTML(text);
  }
}

// escapeHTML escapes text for innerHTML.
export function escapeHTML(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
