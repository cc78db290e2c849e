// Copying a paste's exact text to the clipboard.

// copyText copies text and says so on button for a moment. The clipboard
// API needs a secure context; elsewhere a hidden text area and the older
// copy command do it.
export async function copyText(text, button) {
  const label = button.textContent;
  let ok = false;
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      ok = true;
    } else {
      const ta = document.createElement("textarea");
      ta.value = text;
      ta.className = "offscreen";
      ta.setAttribute("readonly", "");
      document.body.append(ta);
      ta.select();
      ok = document.execCommand("copy");
      ta.remove();
    }
  } catch {
    ok = false;
  }
  button.textContent = ok ? "Copied" : "Copy failed";
  button.classList.toggle("done", ok);
  setTimeout(() => {
    button.textContent = label;
    button.classList.remove("done");
  }, 1500);
}
