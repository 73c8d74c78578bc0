"""Staff pages and commands for the people invited to a survey."""
