"""Network architectures of both methods, named after the papers' parts."""
