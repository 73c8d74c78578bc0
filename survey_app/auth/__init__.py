"""Staff sign-in, sign-out and server-side sessions."""
