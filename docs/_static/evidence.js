// Search excerpts are fetched from each page; a site opened from disk (file://) cannot fetch,
// so there the results are listed without excerpts instead of failing in the console.
if (window.location.protocol === "file:" && typeof DOCUMENTATION_OPTIONS !== "undefined") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
