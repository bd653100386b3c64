// The book's one script (added by book/_ext/mtrl_sphinx.py): the theme's notebook download
// links point at the .ipynb source, which browsers open as JSON text; ask them to download it.
document.addEventListener("DOMContentLoaded", () => {
  for (const link of document.querySelectorAll('a[href$=".ipynb"]')) {
    link.setAttribute("download", link.getAttribute("href").split("/").pop());
  }
});
