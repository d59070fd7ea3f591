"""Small function views, one module per page group: they read through selectors and write through services,
never a mail server."""
