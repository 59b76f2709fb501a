"""Where bytes come from. Only this package and git.py read input."""
