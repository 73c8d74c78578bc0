"""Staff results pages."""
