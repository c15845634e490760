"""The tools that run, supervise, back up and provision the site.

The embedded development database (embedded_db.py), `make cluster` under supervisord (cluster.py, its
nginx template cluster.nginx.conf, and orphans.py, the listener that kills what a dead program left
behind), `make backup` and `make restore` (backup.py), and the fetchers of the pinned browser assets from
npm (pyodide.py, npm_assets.py). The Makefile and operators run them as ``python -m ops.<module>``; the
web app does not import them at request time (settings.py only reads the embedded database's URL and the
assets' folders and version at start-up).
"""
