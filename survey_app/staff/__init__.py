"""Staff pages: survey overview and management (sign-in is required everywhere here)."""
