"""WTForms form classes, one module per audience; forms validate but never touch the database."""
