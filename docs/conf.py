"""Sphinx configuration of the rendered site (``evidence build`` renders it; see evidence/site/render.py).

Sphinx + myst-nb + sphinx-book-theme (the Jupyter Book 1 stack) renders the notebooks that
``evidence build`` has already executed: myst-nb's execution is off, so nothing runs twice. The
theme ships its fonts, icons and scripts, so the site is built and read without the network.
"""

project = "evidence"
author = "evidence contributors"
copyright = "evidence contributors (MIT licence)"
html_title = "Psychodynamic therapy: what the trials show"

extensions = ["myst_nb"]
nb_execution_mode = "off"  # evidence build executed the notebooks already (nbclient)
nb_merge_streams = True
nb_output_stderr = "remove"  # kernel warnings are for the build log, not for readers
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["mystnb.unknown_mime_type"]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "_notebooks"]
templates_path = []
root_doc = "index"

html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["evidence.css"]
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
html_last_updated_fmt = None
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 2,
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "navigation_with_keys": False,
}
# the theme's light/dark switch reads this; unset, it logs a console error on first visit
html_context = {"default_mode": "light"}
# search results show an excerpt of each page: Sphinx fetches the page itself (no _sources copy
# needed), which a site opened from disk (file://) may not do, so there _static/evidence.js
# turns the excerpts off and the results are listed without them
html_show_search_summary = True
html_js_files = ["evidence.js"]
