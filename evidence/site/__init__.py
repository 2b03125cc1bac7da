"""``evidence build`` and the static site: the wing that turns the review into files.

:mod:`~evidence.site.build` validates the data, executes every notebook in a fresh kernel and
swaps the new ``figures/``, ``results/`` and ``site/`` into place; :mod:`~evidence.site.render`
renders the executed notebooks into the static site (Sphinx, myst-nb, sphinx-book-theme). The
site imports the review and the engine; neither imports the site (``tests/test_imports.py``).
"""
