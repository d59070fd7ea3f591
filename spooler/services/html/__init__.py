"""The one way HTML from mail reaches a sanitiser: measured first, in one linear pass, against named caps.

nh3 (html5ever, in Rust) is far worse than linear on some markup that is cheap to send, and it holds the GIL
and Python's signals while it runs, so a task time limit does not stop it. Measured on our 2-core machine:

- nested blocks: 16,000 nested ``<div>`` (176 kB) take 1.7 s, 80,000 (400 kB) 85 s (the tree builder walks
  the stack of open elements for each tag);
- unclosed formatting tags with distinct attributes (``<b id=1><b id=2>…``): 16,000 take 9 s (each one is
  compared with every entry of the list of active formatting elements);
- many attributes on one tag: 160,000 take 23 s (each is checked against those before it for duplicates);
- formatting tags left open across blocks are re-created ("reconstructed") before each later text: 100 of
  them and 16,000 short ``<div>``s (193 kB) built 1.6 million elements, 0.7 s and 400 MB.

``html_measure`` replays the HTML tree builder's stack as far as these costs depend on it (implied end tags of
p, li, dd/dt, option, table cells and rows, headings; the active formatting list with its markers and the
"Noah's Ark" limit of three; self-closing only in SVG/MathML, and breaking out of it) and stops at the first
cap it crosses. Where it cannot be exact it errs on the side of counting more than the parser builds (a test
checks this against the tree nh3 itself builds), so markup that passes is bounded in depth, attributes, active formatting
elements and elements created, and nh3's work on it is linear in its size. Markup over a cap is not parsed:
the caller shows the message's text part, or a "too complex to show" note, and keeps the raw message.

The modules: ``caps`` (HtmlLimits, HtmlTooComplex), ``sanitize`` (html_to_text, html_sanitize, html_check: the
only callers of nh3), ``measure`` (html_measure, html_replay_figures: the token scan that drives the replay),
``tree_replay`` (what the tree builder does with each start and end tag), ``replay_state`` (the stack of open
elements, indexed by groups such as scope boundaries, and the list of active formatting elements it does it to) and
``elements`` (the HTML5 tree builder's categories of elements).
"""

from .caps import HtmlLimits, HtmlTooComplex
from .measure import html_measure, html_replay_figures
from .sanitize import html_check, html_sanitize, html_to_text

__all__ = ["HtmlLimits", "HtmlTooComplex", "html_check", "html_measure", "html_replay_figures", "html_sanitize",
           "html_to_text"]
