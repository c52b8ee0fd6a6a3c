"""The schema revision this code expects: the newest file in db/migrations/versions (a test keeps the
two in step). Kept free of imports so light commands can check it."""

HEAD = "0012"
