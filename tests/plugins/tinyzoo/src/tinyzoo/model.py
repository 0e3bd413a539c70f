"""Model side of the tiny plugin. Listing commands must never import this module (a test checks it)."""

factory = None  # the tiny plugin builds nothing: it exists to test registration, listing and discovery
