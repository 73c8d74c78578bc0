"""Staff invitations pages."""
