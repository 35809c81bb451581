"""Sub-commands of the `handclip` CLI: one module each, found by `handclip.cli`.

A command module defines HELP (one line), add_arguments(parser) and run(args) -> int.
"""
