"""Administration without a command line: regions, stores, users, checklists, imports, audit."""
