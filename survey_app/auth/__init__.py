"""Staff sign-in and sign-out pages, and their throttling (the sessions themselves: services/sessions.py)."""
