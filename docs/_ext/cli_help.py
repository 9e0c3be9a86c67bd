"""``.. bea-cli-help::`` renders the help of the ``bea`` command and of each subcommand from the
argument parser itself, so the CLI reference cannot drift from the code."""

from __future__ import annotations

import argparse

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


class CliHelp(SphinxDirective):
    has_content = False

    def run(self):
        from bea.cli import build_parser

        parser = build_parser()
        out = []
        sections = [("bea", parser)]
        for action in parser._actions:  # the subcommands, in order
            if isinstance(action, argparse._SubParsersAction):
                sections += [(f"bea {name}", sub) for name, sub in action.choices.items()]
        for title, sub in sections:
            section = nodes.section(ids=[nodes.make_id(title)])
            section += nodes.title(text=title)
            text = sub.format_help()
            section += nodes.literal_block(text, text)
            out.append(section)
        return out


def setup(app):
    app.add_directive("bea-cli-help", CliHelp)
    return {"parallel_read_safe": True, "version": "1"}
