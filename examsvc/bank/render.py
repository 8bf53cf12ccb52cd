"""Markdown stems to safe HTML: Markdown-it renders, nh3 sanitises, image names become URLs."""

from __future__ import annotations

from collections.abc import Callable

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

_md = MarkdownIt("commonmark", {"html": False}).enable("table")
TAGS = {
    "p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "blockquote", "h3", "h4",
    "table", "thead", "tbody", "tr", "th", "td", "img", "hr", "span", "a",
}  # fmt: skip
ATTRIBUTES = {"img": {"src", "alt"}, "code": {"class"}, "a": {"href"}}


def to_html(
    markdown: str, image_url: Callable[[str], str | None] | None = None, inline: bool = False
) -> Markup:
    """Render Markdown to HTML that cannot carry script: raw HTML is escaped, then sanitised.

    ``image_url`` maps an image name used in the stem to the URL it is served from; images
    that do not resolve are dropped rather than fetched from anywhere else.
    """

    def attribute(tag: str, attr: str, value: str) -> str | None:
        if tag == "img" and attr == "src":
            name = value.removeprefix("images/")
            return image_url(name) if image_url else None
        return value

    html = _md.renderInline(markdown) if inline else _md.render(markdown)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=attribute,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer",
    )
    return Markup(clean)
