"""What every app's web layer stands on, knowing no app: the shared cache (Redis that degrades instead of
failing), the page cache and its versions, HTTP helpers, absolute URLs, media storage, log lines and the admin's
base classes. The apps import from here; nothing here imports an app."""
