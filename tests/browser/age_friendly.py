"""The age-friendly rules (MIIT 适老化 guidance, GB/T 37668, WCAG 2.1) measured on the page as
Chromium laid it out, beyond what axe-core checks:

- text at least 18 px (22 px in large print), line height at least 1.3;
- tap targets at least 44×44 px (60×60 in large print): every link, button and field, a
  checkbox or radio button counted with its label (tapping the label ticks it); a link inside
  a sentence is exempt, as in WCAG 2.5.5;
- at 200 % zoom of a 390 px wide phone (a 195 px wide layout) nothing scrolls sideways.

``age_friendly(page)`` answers what breaks them, in words; ``Look`` fails a test on any.
"""

from __future__ import annotations

from playwright.async_api import Page

__all__ = ["age_friendly"]

_MEASURE = """() => {
  const large = document.documentElement.classList.contains("large");
  const minText = large ? 22 : 18, minTarget = large ? 60 : 44;
  const found = [];
  const visible = el => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 1 && box.height > 1 && style.visibility !== "hidden"
      && !el.closest(".visually-hidden, .skip, [hidden]");
  };
  const name = el => {
    const text = (el.innerText || el.value || el.getAttribute("aria-label") || "").trim();
    return `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""} "${text.slice(0, 30)}"`;
  };
  for (const el of document.body.querySelectorAll("*")) {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own || !visible(el)) continue;
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    if (size < minText - 0.5) found.push(`text of ${name(el)} is ${size}px, under ${minText}px`);
    const line = style.lineHeight === "normal" ? size * 1.2 : parseFloat(style.lineHeight);
    if (line < size * 1.3 - 0.5)
      found.push(`line height of ${name(el)} is ${(line / size).toFixed(2)}, under 1.3`);
  }
  const targets = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.body.querySelectorAll(targets)) {
    if (!visible(el)) continue;
    let box = el.getBoundingClientRect();
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const row = el.closest(".choice") || (el.labels && el.labels[0]);
      if (row) box = row.getBoundingClientRect();
    }
    if (el.tagName === "A") {
      const parent = el.parentElement;
      const inSentence = parent && [...parent.childNodes].some(
        n => n !== el && (n.nodeType === 3 ? n.textContent.trim() : n.tagName !== "BR"));
      if (inSentence && getComputedStyle(el).display === "inline") continue;
    }
    if (box.width < minTarget - 0.5 || box.height < minTarget - 0.5)
      found.push(`tap target ${name(el)} is ${Math.round(box.width)}×${Math.round(box.height)}px, under ${minTarget}×${minTarget}`);
  }
  return found;
}"""

_SIDEWAYS = """() => {
  const wide = document.documentElement.scrollWidth - window.innerWidth;
  if (wide <= 1) return null;
  const culprits = [...document.body.querySelectorAll("*")]
    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
    .slice(0, 3).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.className ? "." + String(el.className).split(" ")[0] : ""));
  return `at 200 % zoom the page scrolls sideways by ${wide}px (${culprits.join(", ")})`;
}"""


async def age_friendly(page: Page) -> list[str]:
    """What on ``page`` breaks the rules above (empty when nothing does)."""
    found: list[str] = await page.evaluate(_MEASURE)
    size = page.viewport_size
    assert size is not None
    await page.set_viewport_size({"width": size["width"] // 2, "height": size["height"] // 2})
    try:
        sideways: str | None = await page.evaluate(_SIDEWAYS)
    finally:
        await page.set_viewport_size(size)
    return found + ([sideways] if sideways else [])
