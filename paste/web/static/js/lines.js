// Lines of a rendered paste: each line of the highlighted HTML becomes a
// block <span class="line" id="Ln">, optionally led by a line number that
// links to it, and the lines a fragment names are marked selected.
//
// The element's textContent stays exactly the paste's text: line numbers
// are drawn by CSS from a data attribute, not written as text, and carriage
// returns are kept as character references.

// splitLines cuts highlight.js's HTML at newlines, closing the spans open
// at the end of a line and opening them again on the next, so that every
// line is well-formed on its own.
export function splitLines(html) {
  const lines = [];
  const open = [];
  let cur = "";
  let last = 0;
  const tags = /<span[^>]*>|<\/span>|\n/g;
  let m;
  while ((m = tags.exec(html))) {
    cur += html.slice(last, m.index);
    last = tags.lastIndex;
    if (m[0] === "\n") {
      lines.push(cur + "</span>".repeat(open.length));
      cur = open.join("");
    } else if (m[0] === "</span>") {
      open.pop();
      cur += m[0];
    } else {
      open.push(m[0]);
      cur += m[0];
    }
  }
  lines.push(cur + html.slice(last));
  return lines;
}

// renderLines fills code with html (highlighted text), one block per line.
// numbers adds the line numbers, linking to fragmentFor(n).
export function renderLines(code, html, numbers, fragmentFor) {
  const lines = splitLines(html);
  const endsWithNewline = lines.length > 1 && lines[lines.length - 1].replace(/<[^>]*>/g, "") === "";
  const count = endsWithNewline ? lines.length - 1 : lines.length;
  const out = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = i + 1;
    const nl = i < count - 1 || endsWithNewline ? "\n" : "";
    const gutter = numbers ? `<a class="ln" href="#${fragmentFor(n)}" data-n="${n}" aria-label="line ${n}"></a>` : "";
    out[i] = `<span class="line" id="L${n}">${gutter}${lines[i].replaceAll("\r", "&#13;")}${nl}</span>`;
  }
  code.classList.toggle("numbered", numbers);
  code.classList.add("digits-" + Math.min(String(count).length, 7));
  code.innerHTML = out.join("");
  return count;
}

// selectLines marks lines from..to selected (none when from is 0) and,
// when scroll is set, brings the first into view.
export function selectLines(code, from, to, scroll) {
  for (const el of code.querySelectorAll(".line.selected")) el.classList.remove("selected");
  if (!from) return;
  let first = null;
  for (let n = from; n <= to; n++) {
    const el = document.getElementById("L" + n);
    if (!el) break;
    el.classList.add("selected");
    first = first || el;
  }
  if (first && scroll) first.scrollIntoView({ block: "center" });
}
