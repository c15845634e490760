"""What the courses app tells the rest of the site, so that nothing of the site's needs to be imported here."""

from django.dispatch import Signal

# Content that every reader's pages show changed without a model's own save or delete to say so (a bulk update,
# a rebuilt search index). config.apps makes the cached pages stale on it.
content_changed = Signal()
